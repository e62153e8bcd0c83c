// Opaque page cursors: base64url of the last row's sort key, so keyset paging never skips or repeats.

/** Thrown for a cursor this store did not produce (a client-side mistake, not a server fault). */
export class InvalidCursorError extends RangeError {
  constructor() {
    super('invalid page cursor');
    this.name = 'InvalidCursorError';
  }
}

/** The sort key of the last row of a page: a time (ms) and the row id as tie-breaker. */
export interface SortKey {
  readonly at: number;
  readonly id: string;
}

export function encodeCursor(key: SortKey): string {
  return Buffer.from(JSON.stringify([key.at, key.id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): SortKey {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    typeof value[0] !== 'number' ||
    !Number.isSafeInteger(value[0]) ||
    typeof value[1] !== 'string'
  ) {
    throw new InvalidCursorError();
  }
  return { at: value[0], id: value[1] };
}

/** Page size as the store applies it: at least 1, at most 1000. */
export function pageLimit(limit: number): number {
  if (!Number.isFinite(limit)) return 1000;
  return Math.min(1000, Math.max(1, Math.floor(limit)));
}
