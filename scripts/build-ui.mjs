#!/usr/bin/env node
// Builds the inbox (ui/) into ui/dist with Vite; run by `prepare` at install. An install without
// dev dependencies (npm ci --omit=dev) has no Vite: it says so and leaves the server to explain.
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../ui', import.meta.url));
let vite;
try {
  vite = await import('vite');
} catch {
  console.warn(
    'build-ui: Vite is not installed (production-only install?); the inbox is not built.',
  );
  process.exit(0);
}
await vite.build({ root, configFile: `${root}/vite.config.ts`, logLevel: 'warn' });
console.log('build-ui: the inbox is built in ui/dist');
