// Bounded HTTP load with autocannon (loopback only): a promise around one run, with every
// request built by the caller so each can carry its own body and path.
import autocannon from 'autocannon';

export interface LoadRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: Buffer;
}

export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationSec: number;
  /** Index of the first request (so a warm-up and the measured run can share one sequence). */
  readonly firstIndex?: number;
  /** Builds the n-th request of the run (n counts across all connections). */
  readonly request: (n: number) => LoadRequest;
  /** Told about every answer, with the index of the request it answers. */
  readonly onResponse?: (n: number, status: number, body: string) => void;
}

export interface LoadResult {
  readonly durationSec: number;
  readonly sent: number;
  readonly ok2xx: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly latencyMaxMs: number;
  /** 2xx answers per second over the whole run. */
  readonly okPerSec: number;
  /** The index after the last request built (start the next run there). */
  readonly nextIndex: number;
}

interface Slot {
  n: number;
}

/** The q-quantile (0..1) of ascending `sorted` values, nearest rank. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

/**
 * Runs one load. Latencies are taken from autocannon's per-response timings at full precision
 * (its own histogram rounds to whole milliseconds), 2xx answers only, as autocannon does.
 */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  let next = options.firstIndex ?? 0;
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  const record = (ms: number) => {
    if (count === latencies.length) {
      const bigger = new Float64Array(latencies.length * 2);
      bigger.set(latencies);
      latencies = bigger;
    }
    latencies[count++] = ms;
  };
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.durationSec,
        timeout: 10,
        requests: [
          {
            setupRequest: (request, context) => {
              const n = next++;
              (context as Slot).n = n;
              const built = options.request(n);
              return {
                ...request,
                method: built.method,
                path: built.path,
                headers: built.headers,
                ...(built.body ? { body: built.body } : {}),
              };
            },
            ...(options.onResponse
              ? {
                  onResponse: (status: number, body: string, context: object) => {
                    options.onResponse?.((context as Slot).n, status, body);
                  },
                }
              : {}),
          },
        ],
      },
      (error, result) => {
        if (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        const sorted = latencies.slice(0, count).sort();
        resolve({
          durationSec: result.duration,
          sent: result.requests.sent,
          ok2xx: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          latencyP50Ms: quantile(sorted, 0.5),
          latencyP99Ms: quantile(sorted, 0.99),
          latencyMaxMs: quantile(sorted, 1),
          okPerSec: result['2xx'] / result.duration,
          nextIndex: next,
        });
      },
    );
    // autocannon emits (client, statusCode, bytes, responseTimeMs); its typings omit the client.
    (instance as NodeJS.EventEmitter).on('response', (...args: unknown[]) => {
      const [, statusCode, , responseTime] = args as [unknown, number, number, number];
      if (statusCode >= 200 && statusCode < 300) record(responseTime);
    });
  });
}
