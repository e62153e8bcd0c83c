// `parley templates lint`: the project's own template files give exactly the expected findings.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import {
  lintPath,
  registerTemplatesCommand,
  type TemplatesCommandIo,
} from './templates-command.ts';

const folder = fileURLToPath(new URL('../../test/fixtures/templates', import.meta.url));

function capture(): TemplatesCommandIo & { out_: string[]; err_: string[] } {
  const out_: string[] = [];
  const err_: string[] = [];
  return { out_, err_, out: (l) => out_.push(l), err: (l) => err_.push(l) };
}

/** `file: RULE-ID` (and ` warning` for warnings) from one output line. */
function summary(line: string): string {
  const m = /^(.*?): (TPL-[0-9a-zA-Z]+) (warning: )?/.exec(line.slice(folder.length + 1));
  assert.ok(m, `unexpected line: ${line}`);
  return `${m[1] ?? ''}: ${m[2] ?? ''}${m[3] ? ' warning' : ''}`;
}

/** Every finding the fixture folder must produce, and nothing else (good files produce none). */
const EXPECTED = [
  'auth-custom-text.json: TPL-3a',
  'auth-custom-text.json: TPL-3a',
  'bad-language.json: TPL-6',
  'bad-name.json: TPL-1',
  'buttons-mixed.json: TPL-4',
  'buttons-mixed.json: TPL-4',
  'buttons-mixed.json: TPL-4',
  'dense-variables.json: TPL-5 warning',
  'footer-variable.yaml: TPL-3',
  'footer-variable.yaml: TPL-3',
  'legacy-category.yaml: TPL-2 warning',
  'named-in-positional.json: TPL-5',
  'not-a-template.json: TPL-LINT',
  'repeat-order-confirmation.yaml: TPL-6',
  'two-bodies.json: TPL-3',
  'two-documents.yaml: TPL-LINT',
  'unknown-category.json: TPL-2',
  'variables-broken.yaml: TPL-5',
  'variables-broken.yaml: TPL-5',
  'variables-broken.yaml: TPL-5',
  'variables-broken.yaml: TPL-5',
  'variables-broken.yaml: TPL-5',
];

describe('parley templates lint', () => {
  it('TPL-LINT: the fixture folder gives exactly the expected findings, one FILE: RULE-ID line each, and exits 1', async () => {
    const io = capture();
    const code = await lintPath(folder, io);
    assert.deepEqual(io.out_.map(summary), EXPECTED);
    assert.equal(code, 1);
    assert.match(io.err_.join('\n'), /19 files under .*: 20 error\(s\), 2 warning\(s\)/);
  });

  it('TPL-LINT: good JSON and YAML files print nothing and exit 0', async () => {
    for (const file of [
      'order-confirmation.json',
      'seasonal-promotion.yaml',
      'login-code.yaml',
      'welcome-named.json',
      'delivery-update.yaml',
    ]) {
      const io = capture();
      assert.equal(await lintPath(join(folder, file), io), 0, file);
      assert.deepEqual(io.out_, [], file);
    }
  });

  it('TPL-LINT: warnings are printed but exit 0; messages name what is wrong', async () => {
    const io = capture();
    assert.equal(await lintPath(join(folder, 'legacy-category.yaml'), io), 0);
    assert.deepEqual(io.out_, [
      `${join(folder, 'legacy-category.yaml')}: TPL-2 warning: category "TRANSACTIONAL" is a legacy value; Parley maps it to UTILITY on import: write UTILITY`,
    ]);
    const bad = capture();
    assert.equal(await lintPath(join(folder, 'buttons-mixed.json'), bad), 1);
    assert.match(
      bad.out_.join('\n'),
      /TPL-4 buttons\[2\] \(QUICK_REPLY "Cambiar la fecha de recogida del pedido"\): label is 39 characters/,
    );
  });

  it('TPL-LINT: an unparsable file is an error finding with the parser reason', async () => {
    const multi = capture();
    assert.equal(await lintPath(join(folder, 'two-documents.yaml'), multi), 1);
    assert.match(
      multi.out_[0] ?? '',
      /two-documents\.yaml: TPL-LINT the file holds 2 YAML documents; a template file holds exactly one template$/,
    );
    const dir = await mkdtemp(join(tmpdir(), 'parley-templates-'));
    try {
      await writeFile(join(dir, 'broken.yaml'), 'name: broken\ncomponents: [\n  - type: BODY\n');
      await writeFile(join(dir, 'broken.json'), '{"name": "broken",}');
      const io = capture();
      assert.equal(await lintPath(dir, io), 1);
      assert.equal(io.out_.length, 2);
      assert.match(io.out_[0] ?? '', /broken\.json: TPL-LINT could not parse the file as JSON: /);
      assert.match(
        io.out_[1] ?? '',
        /broken\.yaml: TPL-LINT could not parse the file as YAML: .*line 3, column 3$/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('TPL-LINT: a missing path or a folder without template files exits 2 with a message', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-templates-'));
    try {
      const missing = capture();
      assert.equal(await lintPath(join(dir, 'nope.json'), missing), 2);
      assert.match(missing.err_[0] ?? '', /cannot read/);
      await writeFile(join(dir, 'notes.txt'), 'not a template');
      const empty = capture();
      assert.equal(await lintPath(dir, empty), 2);
      assert.match(empty.err_[0] ?? '', /no template files/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('TPL-LINT: `parley templates lint PATH` is registered on the program and sets the exit code', async () => {
    const program = new Command().exitOverride();
    const io = capture();
    registerTemplatesCommand(program, io);
    const before = process.exitCode;
    try {
      await program.parseAsync([
        'node',
        'parley',
        'templates',
        'lint',
        join(folder, 'bad-name.json'),
      ]);
      assert.equal(process.exitCode, 1);
      assert.match(io.out_[0] ?? '', /bad-name\.json: TPL-1 name "Order-Update"/);
    } finally {
      process.exitCode = before;
    }
  });
});
