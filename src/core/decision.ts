// A refusal is a value, not an exception: every policy check answers with a Decision.
import type { ReasonCode } from './reason-codes.ts';

export type Decision = { readonly allowed: true } | Refusal;

export interface Refusal {
  readonly allowed: false;
  readonly reason: ReasonCode;
  /** Says precisely what was wrong, for the API caller or the agent. */
  readonly detail: string;
}

export const ALLOW: Decision = { allowed: true };

export function refuse(reason: ReasonCode, detail: string): Refusal {
  return { allowed: false, reason, detail };
}
