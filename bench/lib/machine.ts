// The machine a run happened on, written next to every figure (figures mean little without it).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

export interface Machine {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryBytes: number;
  readonly node: string;
  /** 1-minute load average when the run began: how busy the (shared) machine already was. */
  readonly loadAverage: number;
  readonly date: string;
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    const model = line?.split(':')[1]?.trim();
    if (model) return model;
  } catch {
    /* not Linux: fall back to what Node reports */
  }
  return cpus()[0]?.model.trim() ?? 'unknown CPU';
}

export function describeMachine(now = new Date()): Machine {
  return {
    cores: availableParallelism(),
    cpuModel: cpuModel(),
    memoryBytes: totalmem(),
    node: process.version,
    loadAverage: loadavg()[0] ?? 0,
    date: now.toISOString(),
  };
}

export function machineLine(m: Machine): string {
  const gib = (m.memoryBytes / 2 ** 30).toFixed(1);
  return (
    `${m.date.slice(0, 16).replace('T', ' ')} UTC on ${m.cores} × ${m.cpuModel}, ${gib} GiB RAM, ` +
    `Node ${m.node}, 1-min load average ${m.loadAverage.toFixed(1)} at start`
  );
}

/** The code measured: the commit, and whether src/ or bin/ had uncommitted changes. */
export function codeVersion(repoRoot: string): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: repoRoot,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'src', 'bin') !== '';
    return dirty ? `${commit} with uncommitted changes in src/` : commit;
  } catch {
    return 'unknown (not a git checkout)';
  }
}
