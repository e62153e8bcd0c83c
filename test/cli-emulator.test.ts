// `parley emulator` as a user runs it: a real process that prints where it listens and the
// secrets a client needs, answers the Cloud API with them, and stops cleanly on SIGTERM.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '..', 'bin', 'parley.js');

describe('parley emulator (command)', () => {
  it('prints its URL, token and app secret, serves the Cloud API with that token, and exits on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'emulator', '--port', '0', '--app-secret', 'cli-secret', '--token', 'cli-token'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL printed:\n${output}`)), 60_000);
        child.stdout.on('data', () => {
          const match = /emulator on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (match?.[1]) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
      });
      assert.match(output, /Access token: +cli-token/);
      assert.match(output, /App secret: +cli-secret/);
      assert.match(output, /Phone number id: +106540352242922/);

      const number = await fetch(`${url}/v23.0/106540352242922`, {
        headers: { authorization: 'Bearer cli-token' },
      });
      assert.equal(number.status, 200);
      assert.equal(((await number.json()) as { id: string }).id, '106540352242922');
      const refused = await fetch(`${url}/v23.0/106540352242922`, {
        headers: { authorization: 'Bearer someone-else' },
      });
      assert.equal(refused.status, 401);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });

  it('refuses a port that is not a number with a usage error', async () => {
    const child = spawn(process.execPath, [BIN, 'emulator', '--port', 'eighty'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.notEqual(code, 0);
    assert.match(stderr, /port/);
  });
});
