// `npm run bench -- [p1 p3 …] [--duration=10] [--connections=32] [--profile] [--no-write]`:
// runs the named benchmarks (all `bench/p<N>-<name>.ts` files when none is named), prints a
// table, and rewrites their sections of docs/benchmarks.md with the figures and the machine.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as prettier from 'prettier';
import { replaceSection } from './lib/doc-sections.ts';
import { consoleTable, markdownSection } from './lib/format.ts';
import { codeVersion, describeMachine, machineLine } from './lib/machine.ts';
import type { BenchmarkRun, BenchOptions, BenchReport } from './lib/types.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = dirname(benchDir);
const docFile = join(repoRoot, 'docs', 'benchmarks.md');

interface BenchFile {
  readonly id: string;
  readonly name: string;
  readonly file: string;
}

/** `p1-webhooks.ts` → id `p1`, name `p1-webhooks`; sorted by number. */
function benchmarkFiles(dir = benchDir): BenchFile[] {
  return readdirSync(dir)
    .map((f) => /^(p\d+)(-[a-z0-9-]+)?\.ts$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ id: m[1]!, name: m[0].replace(/\.ts$/, ''), file: join(dir, m[0]) }))
    .sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1)) || a.name.localeCompare(b.name));
}

function parseArgs(argv: readonly string[]): { names: string[]; options: BenchOptions } {
  const names: string[] = [];
  const options: Record<string, string | true> = {};
  for (const arg of argv) {
    const flag = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(arg);
    if (flag) options[flag[1]!] = flag[2] ?? true;
    else names.push(arg.toLowerCase());
  }
  return { names, options };
}

const SKELETON = `# Benchmarks

Figures from \`npm run bench\`; each section below is rewritten by the run that produced it.
`;

async function writeDoc(reports: readonly BenchReport[], machine: string): Promise<void> {
  let doc = existsSync(docFile) ? readFileSync(docFile, 'utf8') : SKELETON;
  for (const report of reports)
    doc = replaceSection(doc, report.id, markdownSection(report, machine));
  const config = (await prettier.resolveConfig(docFile)) ?? {};
  writeFileSync(docFile, await prettier.format(doc, { ...config, filepath: docFile }));
}

async function main(): Promise<void> {
  const { names, options } = parseArgs(process.argv.slice(2));
  const all = benchmarkFiles();
  const unknown = names.filter((n) => !all.some((b) => b.id === n || b.name === n));
  if (unknown.length > 0) {
    console.error(
      `unknown benchmark(s): ${unknown.join(', ')}; available: ${all.map((b) => b.name).join(', ')}`,
    );
    process.exitCode = 2;
    return;
  }
  const selected =
    names.length === 0 ? all : all.filter((b) => names.includes(b.id) || names.includes(b.name));
  const machine = `${machineLine(describeMachine())}, code ${codeVersion(repoRoot)}`;
  console.error(`machine: ${machine}`);
  const reports: BenchReport[] = [];
  let failed = false;
  for (const bench of selected) {
    console.error(`\n== ${bench.name}`);
    const mod = (await import(pathToFileURL(bench.file).href)) as { run?: BenchmarkRun };
    if (typeof mod.run !== 'function') {
      console.error(`${bench.name}: exports no run() function, skipped`);
      failed = true;
      continue;
    }
    try {
      const report = await mod.run({
        repoRoot,
        options,
        log: (line) => console.error(line),
      });
      reports.push(report);
      console.log(`\n${consoleTable([report])}`);
      for (const note of report.notes) console.log(`  - ${note}`);
    } catch (error) {
      failed = true;
      console.error(`${bench.name} failed:`, error);
    }
  }
  if (reports.length > 1) console.log(`\n${consoleTable(reports)}`);
  if (options['no-write'] !== true && reports.length > 0) {
    await writeDoc(reports, machine);
    console.error(`\nwrote ${reports.map((r) => r.id).join(', ')} to docs/benchmarks.md`);
  }
  if (failed) process.exitCode = 1;
}

await main();
