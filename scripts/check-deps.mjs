#!/usr/bin/env node
// Dependency-direction gate (ARCHITECTURE.md §1): core <- ports <- app <- adapters|http|workers|cli.
// core imports nothing outside core (no node:*, no packages); ports import core only; app imports
// core and ports; app/container.ts (the composition root) alone wires adapters, workers and http.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const root = resolve('src');
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (/\.tsx?$/.test(name)) files.push(path);
  }
};
walk(root);

const layerOf = (abs) => relative(root, abs).split(sep)[0];
const importRe =
  /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const problems = [];
for (const file of files) {
  if (file.endsWith('.test.ts')) continue;
  const layer = layerOf(file);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2];
    const where = `${relative(process.cwd(), file)} imports '${spec}'`;
    if (!spec.startsWith('.')) {
      if (layer === 'core' || layer === 'ports') {
        // the core is pure: no node:* and no packages (type-only imports included)
        problems.push(`${where}: ${layer}/ must not depend on packages or node:*`);
      }
      continue;
    }
    const target = resolve(dirname(file), spec);
    const targetLayer = layerOf(target);
    const allowed = {
      core: ['core'],
      ports: ['core', 'ports'],
      app: ['core', 'ports', 'app'],
    }[layer];
    if (allowed && !allowed.includes(targetLayer)) {
      // The composition root wires everything: adapters, workers and the HTTP server.
      const isContainer = relative(root, file) === join('app', 'container.ts');
      if (!isContainer) problems.push(`${where}: ${layer}/ may import only ${allowed.join(', ')}`);
    }
    if (targetLayer === 'adapters' && layer !== 'adapters' && layer !== 'app') {
      problems.push(`${where}: adapters are wired only in app/container.ts`);
    }
  }
}
if (problems.length) {
  console.error(problems.join('\n'));
  console.error(`check-deps: ${problems.length} dependency-direction violation(s)`);
  process.exit(1);
}
console.log(`check-deps: ${files.length} files, dependency direction ok`);
