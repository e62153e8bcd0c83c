// Test databases: a throwaway SQLite file, a throwaway PostgreSQL database, and CI-aware skipping.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** The server named by PARLEY_TEST_POSTGRES_URL (default: local trust-auth PostgreSQL). */
function configuredUrl(): string {
  return process.env.PARLEY_TEST_POSTGRES_URL?.trim() || DEFAULT_POSTGRES_URL;
}

/** The configured URL, then the same URL as user `root` (local installs without a postgres role). */
function candidateUrls(): string[] {
  const first = configuredUrl();
  const asRoot = new URL(first);
  asRoot.username = 'root';
  asRoot.password = '';
  return asRoot.toString() === first ? [first] : [first, asRoot.toString()];
}

async function tryConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

let adminUrl: Promise<string | null> | undefined;

/** The first candidate URL the server accepts, found once per process. */
function findAdminUrl(): Promise<string | null> {
  adminUrl ??= (async () => {
    for (const url of candidateUrls()) {
      if (await tryConnect(url)) return url;
    }
    return null;
  })();
  return adminUrl;
}

export async function postgresAvailable(): Promise<boolean> {
  return (await findAdminUrl()) !== null;
}

/**
 * Creates a uniquely named database on the test server and returns its URL; `drop()` removes it
 * (closing any connection a failed test left behind).
 */
export async function freshPostgresUrl(): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = await findAdminUrl();
  if (admin === null) throw new Error(`PostgreSQL is not reachable at ${configuredUrl()}`);
  const name = `parley_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const run = async (statement: string): Promise<void> => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await run(`create database "${name}"`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => run(`drop database if exists "${name}" with (force)`),
  };
}

/** A SQLite file in its own temporary directory (WAL side files included in the cleanup). */
export function freshSqliteFile(): { file: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'parley-test-'));
  return {
    file: join(dir, 'parley.db'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A skip reason when a server a test needs is absent, or undefined to run. Under CI=true an
 * absent server is an error: server-backed tests must run there, never silently skip.
 */
export function requireServerOrSkip(available: boolean, what: string): string | undefined {
  if (available) return undefined;
  if (process.env.CI === 'true') {
    throw new Error(`${what} is required in CI but is not reachable`);
  }
  return `needs ${what} (not reachable here)`;
}
