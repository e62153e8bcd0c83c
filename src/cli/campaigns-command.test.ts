// `parley campaigns …` against the store of a running Parley: create from a CSV, estimate, start,
// status with per-recipient outcomes, pause/resume/cancel, and precise failures (exit 1).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestParley, type TestParley } from '../../test/helpers/parley.ts';
import type { CommandIo } from './cli-context.ts';
import {
  runCampaignAction,
  runCampaignCreate,
  runCampaignEstimate,
  runCampaignStatus,
} from './campaigns-command.ts';

function capture(): CommandIo & { out_: string[]; err_: string[] } {
  const out_: string[] = [];
  const err_: string[] = [];
  return { out_, err_, out: (l) => out_.push(l), err: (l) => err_.push(l) };
}

const CONSENT_HEADER =
  'phone,kind,purpose,channel_id,source,at,text_shown,text_version,business_name,url,ip,user_agent,note';

describe('parley campaigns', () => {
  let t: TestParley;
  let dir: string;
  before(async () => {
    t = await startTestParley();
    dir = mkdtempSync(join(tmpdir(), 'parley-campaigns-'));
    const optIns = ['447700900601', '447700900602'].map(
      (p) => `+${p},opt_in,marketing,,web_form,2026-02-01T10:00:00Z,"Yes",v1,Parley Demo Shop,,,,`,
    );
    await t.parley.http.inject({
      method: 'POST',
      url: '/v1/consent/import',
      headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'text/csv' },
      payload: [CONSENT_HEADER, ...optIns].join('\n'),
    });
    writeFileSync(
      join(dir, 'audience.csv'),
      'phone,body.1,body.2\n+447700900601,Ada,10%\n+447700900602,Bo,20%\n+447700900603,Cy,5%\n',
    );
    writeFileSync(join(dir, 'bad.csv'), 'phone,body.1,body.2\nnope,Ada,10%\n');
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates, estimates, starts, reports and cancels a campaign; the running Parley sends it', async () => {
    const io = capture();
    const created = await runCampaignCreate(
      {
        name: 'CLI spring',
        template: 'welcome_offer',
        language: 'en',
        csv: join(dir, 'audience.csv'),
      },
      io,
      t.parley.config,
    );
    assert.equal(created, 0, io.err_.join('\n'));
    const campaign = JSON.parse(io.out_.join('\n')) as {
      id: string;
      state: string;
      progress: Record<string, unknown>;
    };
    assert.equal(campaign.state, 'draft');
    assert.equal(campaign.progress.pending, 2);
    assert.deepEqual(campaign.progress.skippedByReason, { not_opted_in: 1 });

    const est = capture();
    assert.equal(await runCampaignEstimate(campaign.id, {}, est, t.parley.config), 0);
    const estimate = JSON.parse(est.out_.join('\n')) as { recipients: number };
    assert.equal(estimate.recipients, 2);

    const start = capture();
    assert.equal(await runCampaignAction('start', campaign.id, {}, start, t.parley.config), 0);
    assert.match(start.out_.join('\n'), /"state": "running"/);
    assert.equal(await t.parley.campaigns.runOnce(), 2);

    const status = capture();
    assert.equal(
      await runCampaignStatus(campaign.id, { recipients: true }, status, t.parley.config),
      0,
    );
    const rows = status.out_.slice(1).map((l) => l.split('\t').slice(1, 4));
    assert.deepEqual(rows, [
      ['447700900601', 'queued', ''],
      ['447700900602', 'queued', ''],
      ['447700900603', 'skipped', 'not_opted_in'],
    ]);

    const cancel = capture();
    assert.equal(await runCampaignAction('cancel', campaign.id, {}, cancel, t.parley.config), 0);
    const again = capture();
    assert.equal(await runCampaignAction('resume', campaign.id, {}, again, t.parley.config), 1);
    assert.match(again.err_.join('\n'), /cancelled campaign cannot resume/);
  });

  it('refuses a bad CSV naming its lines, and an unknown campaign, with exit 1', async () => {
    const bad = capture();
    const code = await runCampaignCreate(
      { name: 'x', template: 'welcome_offer', language: 'en', csv: join(dir, 'bad.csv') },
      bad,
      t.parley.config,
    );
    assert.equal(code, 1);
    assert.match(bad.err_.join('\n'), /line 2: "nope" is not an E\.164 number/);
    const missing = capture();
    assert.equal(await runCampaignStatus('nope', {}, missing, t.parley.config), 1);
    assert.match(missing.err_.join('\n'), /No campaign nope/);
    const unreadable = capture();
    assert.equal(
      await runCampaignCreate(
        { name: 'x', template: 'welcome_offer', language: 'en', csv: join(dir, 'none.csv') },
        unreadable,
        t.parley.config,
      ),
      1,
    );
    assert.match(unreadable.err_.join('\n'), /cannot read/);
  });
});
