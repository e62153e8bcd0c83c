// Browser tests: Debian's Chromium driven by playwright-core against a Parley on a real port,
// with a screenshot per step under artifacts/e2e/.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { UI_DIST } from '../../src/http/ui.ts';
import { startTestParley, type TestParley } from './parley.ts';

export const CHROMIUM = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'artifacts', 'e2e');

/**
 * undefined when Chromium is here; otherwise the skip reason — except under CI=true, where a
 * missing browser is a failure (browser tests must not silently skip in CI).
 */
export function chromiumOrSkip(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  if (process.env.CI === 'true')
    throw new Error(`Chromium is required in CI but ${CHROMIUM} is missing (see .ci/run)`);
  return `needs Chromium at ${CHROMIUM} (apt-get install chromium)`;
}

/** The inbox must be built for the browser to load it; build it once if this checkout has not. */
export function ensureUiBuilt(): void {
  if (existsSync(join(UI_DIST, 'index.html'))) return;
  const result = spawnSync(process.execPath, ['scripts/build-ui.mjs'], {
    cwd: join(import.meta.dirname, '..', '..'),
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('building the inbox (npm run build:ui) failed');
}

export interface E2E {
  readonly t: TestParley;
  readonly baseUrl: string;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Saves artifacts/e2e/<suite>-<nn>-<name>.png. */
  shot(name: string, page?: Page): Promise<void>;
  close(): Promise<void>;
}

/**
 * A whole test Parley (manual clock started at the real time, so the browser's clock and the
 * server's agree until a test moves the server's on) listening on 127.0.0.1:0, and one browser.
 */
export async function startE2E(
  suite: string,
  options: { viewport?: { width: number; height: number } } = {},
): Promise<E2E> {
  ensureUiBuilt();
  const t = await startTestParley({
    start: new Date(Math.floor(Date.now() / 1000) * 1000).toISOString(),
  });
  const address = await t.parley.http.listen({ port: 0, host: '127.0.0.1' });
  const userDataDir = mkdtempSync(join(tmpdir(), 'parley-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
    viewport: options.viewport ?? { width: 1366, height: 860 },
    baseURL: address,
  });
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  mkdirSync(ARTIFACTS, { recursive: true });
  // This suite's screenshots of an earlier run would mislead: start clean.
  for (const name of readdirSync(ARTIFACTS))
    if (name.startsWith(`${suite}-`)) rmSync(join(ARTIFACTS, name), { force: true });
  let n = 0;
  return {
    t,
    baseUrl: address,
    context,
    page,
    async shot(name, target = page) {
      n += 1;
      await target.screenshot({
        path: join(ARTIFACTS, `${suite}-${String(n).padStart(2, '0')}-${name}.png`),
        fullPage: false,
      });
    },
    async close() {
      await context.close().catch(() => undefined);
      rmSync(userDataDir, { recursive: true, force: true });
      await t.close();
    },
  };
}
