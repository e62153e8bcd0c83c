#!/usr/bin/env node
// Runs every *.test.ts under src/, test/ and bench/ with node:test (Node 20 has no test globs).
// Optional arguments filter the file list by substring: `npm test -- store sandbox`.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = ['src', 'test', 'bench'];
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.ts')) files.push(relative(process.cwd(), path));
  }
};
for (const root of roots) {
  try {
    walk(root);
  } catch {
    /* a missing root is fine */
  }
}
const filters = process.argv.slice(2);
const selected = files
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (selected.length === 0) {
  console.error('run-tests: no test files matched; refusing to report success');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...selected],
  {
    stdio: 'inherit',
    env: { ...process.env, PARLEY_LOG_LEVEL: process.env.PARLEY_LOG_LEVEL ?? 'silent' },
  },
);
process.exit(result.status ?? 1);
