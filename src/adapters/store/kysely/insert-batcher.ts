// Group commit for the webhook log: concurrent inserts share one transaction instead of one commit each.

interface PendingRow<Row> {
  readonly row: Row;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Collects rows inserted during one turn of the event loop (and while a previous batch is being
 * written) and writes them with `writeMany` in a single transaction. Each caller's promise
 * settles only after its own row is committed, so "stored before acknowledged" still holds; a
 * commit per row is what limited SQLite to a few thousand webhooks a second.
 *
 * If a batch fails, its rows are retried one by one so a single bad row fails alone.
 */
export class InsertBatcher<Row> {
  readonly #writeOne: (row: Row) => Promise<void>;
  readonly #writeMany: (rows: readonly Row[]) => Promise<void>;
  readonly #maxBatch: number;
  #pending: PendingRow<Row>[] = [];
  #running: Promise<void> | undefined;

  constructor(options: {
    writeOne: (row: Row) => Promise<void>;
    writeMany: (rows: readonly Row[]) => Promise<void>;
    maxBatch: number;
  }) {
    this.#writeOne = options.writeOne;
    this.#writeMany = options.writeMany;
    this.#maxBatch = options.maxBatch;
  }

  insert(row: Row): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ row, resolve, reject });
      // setImmediate, not a microtask: requests arriving in the same I/O phase join the batch.
      this.#running ??= new Promise<void>((started) => setImmediate(started)).then(() =>
        this.#drain(),
      );
    });
  }

  /** Resolves once every row handed in so far is written (or has failed). */
  async flush(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0, this.#maxBatch);
        await this.#write(batch);
      }
    } finally {
      this.#running = undefined;
    }
  }

  async #write(batch: PendingRow<Row>[]): Promise<void> {
    if (batch.length > 1) {
      try {
        await this.#writeMany(batch.map((p) => p.row));
        for (const p of batch) p.resolve();
        return;
      } catch {
        // Fall through: one by one, so only the row at fault fails.
      }
    }
    for (const p of batch) await this.#writeAlone(p);
  }

  /** Never throws: a writer that throws (even synchronously) rejects only its own caller. */
  async #writeAlone(pending: PendingRow<Row>): Promise<void> {
    try {
      await this.#writeOne(pending.row);
      pending.resolve();
    } catch (error) {
      pending.reject(error);
    }
  }
}
