// Maps the template, consent and notification use cases' typed errors to problems.
import { PolicyError } from '../../app/policy-errors.ts';
import { ApiProblem } from '../problem.ts';

/** Runs `work`, turning a PolicyError into the problem with its code and extensions. */
export async function policyGuard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof PolicyError)
      throw new ApiProblem(error.code, error.message, { ...error.extensions });
    throw error;
  }
}
