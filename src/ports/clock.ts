// Time is a port: rules read `now()` from here so tests can move it (an injected clock).
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}
