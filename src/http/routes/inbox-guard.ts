// The inbox's typed errors as problems (the status of each code lives in problem.ts).
import { InboxError } from '../../app/agents.ts';
import { NotFound } from '../../app/queries.ts';
import { ApiProblem } from '../problem.ts';

export async function inboxGuard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof InboxError)
      throw new ApiProblem(error.code, error.message, error.extensions);
    if (error instanceof NotFound) throw new ApiProblem('not_found', error.message);
    throw error;
  }
}
