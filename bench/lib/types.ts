// The contract between `bench/run.ts` and each benchmark file (`bench/p<N>-<name>.ts`).

/** Options parsed from `npm run bench -- … --name=value`; each benchmark reads the ones it knows. */
export type BenchOptions = Readonly<Record<string, string | true>>;

export interface BenchContext {
  /** Absolute path of the repository (where `bin/parley.js` lives). */
  readonly repoRoot: string;
  readonly options: BenchOptions;
  /** Progress lines (stderr), so stdout keeps the result table. */
  log(line: string): void;
}

/**
 * What a figure is compared with. `>=`/`>`: bigger is better; `<`/`<=`: smaller is better;
 * `==`: a check that must hold exactly (e.g. stored messages equal acknowledged webhooks).
 */
export interface Target {
  readonly op: '>=' | '>' | '<' | '<=' | '==';
  readonly value: number;
}

export interface ResultRow {
  readonly label: string;
  /** null when the measurement could not be taken (the reason goes into the notes). */
  readonly value: number | null;
  readonly unit: string;
  readonly target?: Target;
}

export interface BenchReport {
  /** `p1` … matches the file name and the `<!-- bench:p1 -->` section of docs/benchmarks.md. */
  readonly id: string;
  readonly title: string;
  readonly rows: readonly ResultRow[];
  /** Setup, verification and skip reasons, one sentence each (rendered as a list). */
  readonly notes: readonly string[];
}

/** Every `bench/p<N>-<name>.ts` exports this function and nothing else is required. */
export type BenchmarkRun = (context: BenchContext) => Promise<BenchReport>;

/** A numeric option (`--duration=5`), or the fallback. */
export function numberOption(options: BenchOptions, name: string, fallback: number): number {
  const raw = options[name];
  if (raw === undefined || raw === true) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
}
