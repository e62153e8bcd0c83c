// A real Parley server for benchmarks: `node bin/parley.js start` in a child process on a free
// loopback port, with an admin API key, stopped with SIGTERM like an operator would.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export const BENCH_API_KEY = 'parley-bench-admin-key-0123456789';

/** A port nobody listens on right now (the kernel picks it; `PARLEY_PORT=0` would hide it from us). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

export interface ParleyProcess {
  readonly pid: number;
  readonly url: string;
  /** From spawn to the first `GET /healthz` answered 200. */
  readonly healthyAfterMs: number;
  /** CPU the process had used when it was first healthy (start-up work, contention aside), seconds. */
  readonly cpuToHealthySec: number;
  /** Resident set size now (VmRSS of /proc/PID/status), bytes. */
  rssBytes(): number;
  /** Peak resident set size so far (VmHWM), bytes. */
  peakRssBytes(): number;
  /** CPU time the server has used so far (user + system, all its threads), seconds. */
  cpuSeconds(): number;
  /** A JSON request to the API with the admin key; throws on a non-2xx answer. */
  api(method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown): Promise<any>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** The last few kilobytes the server printed (for error messages). */
  output(): string;
}

export interface StartOptions {
  readonly repoRoot: string;
  readonly dataDir: string;
  readonly databaseUrl?: string;
  /** Extra node flags, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

function statusField(pid: number, field: string): number {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  if (!match?.[1]) throw new Error(`${field} missing from /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

let clockTicks: number | undefined;

/** Kernel clock ticks per second, the unit of the CPU times in /proc/PID/stat. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of a process, seconds (fields 14 and 15 of /proc/PID/stat, after the command name). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
}

export async function startParleyProcess(options: StartOptions): Promise<ParleyProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // The server sees only the settings given here, never the caller's own PARLEY_* variables.
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('PARLEY_')) env[k] = v;
  Object.assign(env, {
    PARLEY_HOST: '127.0.0.1',
    PARLEY_PORT: String(port),
    PARLEY_DATA_DIR: options.dataDir,
    PARLEY_ADMIN_API_KEY: BENCH_API_KEY,
    ...(options.databaseUrl ? { PARLEY_DATABASE_URL: options.databaseUrl } : {}),
    ...options.env,
  });
  const started = performance.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), join(options.repoRoot, 'bin', 'parley.js'), 'start'],
    { cwd: options.repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-8192);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));

  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn parley');
  const deadline = started + (options.timeoutMs ?? 60_000);
  let healthyAfterMs = -1;
  let cpuToHealthySec = 0;
  while (performance.now() < deadline) {
    if (exitCode !== undefined)
      throw new Error(`parley exited (${exitCode}) before healthy:\n${log}`);
    try {
      const res = await fetch(`${url}/healthz`);
      await res.arrayBuffer();
      if (res.status === 200) {
        healthyAfterMs = performance.now() - started;
        cpuToHealthySec = processCpuSeconds(pid);
        break;
      }
    } catch {
      /* not listening yet */
    }
    await sleep(10);
  }
  if (healthyAfterMs < 0) {
    child.kill('SIGKILL');
    throw new Error(`parley was not healthy within ${options.timeoutMs ?? 60_000} ms:\n${log}`);
  }

  return {
    pid,
    url,
    healthyAfterMs,
    cpuToHealthySec,
    rssBytes: () => statusField(pid, 'VmRSS'),
    peakRssBytes: () => statusField(pid, 'VmHWM'),
    cpuSeconds: () => processCpuSeconds(pid),
    async api(method, path, body) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${BENCH_API_KEY}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
      return text ? JSON.parse(text) : null;
    },
    async stop(graceMs = 30_000) {
      if (exitCode !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    output: () => log,
  };
}

/** A meta connection with a known app secret and one channel, created through the API. */
export async function createMetaChannel(
  server: ParleyProcess,
  input: { appSecret: string; phoneNumberId: string; phoneNumber: string },
): Promise<{ connectionId: string; channelId: string }> {
  const connection = await server.api('POST', '/v1/connections', {
    provider: 'meta',
    name: 'Benchmark Meta',
    secrets: {
      accessToken: 'bench-access-token',
      appSecret: input.appSecret,
      verifyToken: 'bench-verify-token',
    },
  });
  const channel = await server.api('POST', '/v1/channels', {
    connectionId: connection.id,
    name: 'Benchmark number',
    providerKey: input.phoneNumberId,
    phoneNumber: input.phoneNumber,
  });
  return { connectionId: String(connection.id), channelId: String(channel.id) };
}
