// Where the CPU went: self time of a V8 `.cpuprofile` (written by `node --cpu-prof`), grouped by
// package or source file and by function.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileShare {
  readonly name: string;
  /** Share of all samples, 0..1. */
  readonly share: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly byArea: readonly ProfileShare[];
  readonly byFunction: readonly ProfileShare[];
  /**
   * Time with a Parley function (src/) anywhere on the stack, its callees included. Async
   * functions count from each resumption, so these are lower bounds that may overlap.
   */
  readonly inclusiveSrc: readonly ProfileShare[];
}

/** `node_modules/fastify/…` → `fastify`, `…/src/app/x.ts` → `src/app/x.ts`, `node:…` → `node internals`. */
export function areaOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const mod = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (mod?.[1]) return mod[1];
  const src = /\/((?:src|bench|test)\/.+)$/.exec(url);
  if (src?.[1]) return src[1];
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

/** Now on the clock V8 stamps profiles with (CLOCK_MONOTONIC, µs), so a window can be cut out. */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * Summarises the samples taken between `window.from` and `window.to` (µs, see
 * `monotonicMicros`), or all of them: start-up (module compilation) would otherwise blur the
 * picture of the measured load.
 */
export function summarizeProfile(
  file: string,
  options: { top?: number; from?: number; to?: number } = {},
): ProfileSummary {
  const top = options.top ?? 12;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  const area = new Map<string, number>();
  const fn = new Map<string, number>();
  let total = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (
      (options.from !== undefined && at < options.from) ||
      (options.to !== undefined && at > options.to)
    )
      return;
    const node = byId.get(id);
    if (!node) return;
    total += dt;
    const { functionName, url, lineNumber } = node.callFrame;
    const a = areaOf(url, functionName);
    area.set(a, (area.get(a) ?? 0) + dt);
    const f = `${functionName || '(anonymous)'} ${a}${url ? `:${lineNumber + 1}` : ''}`;
    fn.set(f, (fn.get(f) ?? 0) + dt);
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const frame = byId.get(n)?.callFrame;
      if (!frame?.url.includes('/src/')) continue;
      const name = `${frame.functionName || '(anonymous)'} ${areaOf(frame.url, frame.functionName)}`;
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + dt);
    }
  });
  const rank = (m: Map<string, number>): ProfileShare[] =>
    [...m.entries()]
      .sort((x, y) => y[1] - x[1])
      .slice(0, top)
      .map(([name, t]) => ({ name, share: total > 0 ? t / total : 0 }));
  return {
    totalMs: total / 1000,
    byArea: rank(area),
    byFunction: rank(fn),
    inclusiveSrc: rank(inclusive),
  };
}

export function profileLines(summary: ProfileSummary): string[] {
  const pct = (s: ProfileShare) => `${(s.share * 100).toFixed(1)}% ${s.name}`;
  return [
    `CPU profile of the server, ${(summary.totalMs / 1000).toFixed(1)} s sampled`,
    `  by area:     ${summary.byArea.map(pct).join(' · ')}`,
    `  by function: ${summary.byFunction.map(pct).join(' · ')}`,
    `  inclusive (Parley code): ${summary.inclusiveSrc.map(pct).join(' · ')}`,
  ];
}

/** Node flags that write a CPU profile into `dir` when the process exits. */
export function cpuProfileFlags(dir: string): string[] {
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

/** The summary lines of the profile a process wrote into `dir` (empty if it wrote none). */
export function profileDirLines(
  dir: string,
  window: { from?: number; to?: number } = {},
): string[] {
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    return [];
  }
  const file = files[0];
  return file ? profileLines(summarizeProfile(join(dir, file), window)) : [];
}
