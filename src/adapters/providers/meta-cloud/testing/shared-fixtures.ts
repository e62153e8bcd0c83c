// Where the shared provider fixtures live (beside the repo, absent on a fresh clone) and how tests read them.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `<repo>/../shared/fixtures/`: real provider payloads, never copied into the project. */
export const SHARED_FIXTURES_DIR = fileURLToPath(
  new URL('../../../../../../shared/fixtures/', import.meta.url),
);

export const FIXTURES_PRESENT = existsSync(SHARED_FIXTURES_DIR);

/** Pass as the `skip` option of a test that reads the shared fixtures. */
export const NEEDS_FIXTURES: string | false = FIXTURES_PRESENT
  ? false
  : 'needs ../shared/fixtures (absent on a fresh clone)';

export function fixturePath(relative: string): string {
  return `${SHARED_FIXTURES_DIR}${relative}`;
}

export function readFixture(relative: string): Buffer {
  return readFileSync(fixturePath(relative));
}

export function readFixtureJson(relative: string): unknown {
  return JSON.parse(readFixture(relative).toString('utf8')) as unknown;
}

export function listFixtures(folder: string): string[] {
  return FIXTURES_PRESENT ? readdirSync(fixturePath(folder)).sort() : [];
}
