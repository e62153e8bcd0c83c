// How fast the campaign runner enqueues: wall time and CPU per recipient for one campaign fed
// through `runCampaigns` (every rule check, message, idempotency key and job per recipient), the
// dispatcher stopped. Not part of `npm run bench`:
// `node --import tsx bench/experiments/campaign-enqueue.ts [--postgres] [--recipients N]
// [--per-transaction N]`
// (a throwaway database on the test server, dropped afterwards).
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { runCampaigns } from '../../src/app/run-campaign.ts';
import { freshPostgresUrl } from '../../test/helpers/databases.ts';
import { startTestParley } from '../../test/helpers/parley.ts';

const arg = (name: string) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
};
const RECIPIENTS = Number(arg('--recipients') ?? 2_000);
const PER_TRANSACTION = arg('--per-transaction');
const postgres = process.argv.includes('--postgres') ? await freshPostgresUrl() : null;
const t = await startTestParley(postgres ? { databaseUrl: postgres.url } : {});
try {
  const phones = Array.from({ length: RECIPIENTS }, (_, i) => `4477${String(i).padStart(8, '0')}`);
  const header =
    'phone,kind,purpose,channel_id,source,at,text_shown,text_version,business_name,url,ip,user_agent,note';
  const imported = await t.parley.http.inject({
    method: 'POST',
    url: '/v1/consent/import',
    headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'text/csv' },
    payload: [
      header,
      ...phones.map(
        (p) =>
          `+${p},opt_in,marketing,,web_form,2026-02-01T10:00:00Z,"Yes, offers please",v1,Parley Demo Shop,,,,`,
      ),
    ].join('\n'),
  });
  assert.ok(imported.statusCode < 300, imported.body);
  const created = await t.api('POST', '/v1/campaigns', {
    name: 'Enqueue timing',
    template: { name: 'welcome_offer', language: { code: 'en' } },
    audience: {
      csv: ['phone,body.1,body.2', ...phones.map((p, i) => `+${p},N${i},5%`)].join('\n'),
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const id = created.json.id as string;
  assert.equal((await t.api('POST', `/v1/campaigns/${id}/start`)).status, 200);

  const cpu = process.cpuUsage();
  const started = performance.now();
  let queued = 0;
  for (let n = -1; n !== 0;) {
    n = await runCampaigns(t.parley.deps, {
      owner: 'experiment',
      ...(PER_TRANSACTION ? { enqueueBatch: Number(PER_TRANSACTION) } : {}),
    });
    queued += n;
  }
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  assert.equal(queued, RECIPIENTS);
  assert.equal(await t.parley.deps.store.jobs.size('outbound'), RECIPIENTS);
  const status = await t.api('GET', `/v1/campaigns/${id}`);
  assert.equal(status.json.progress.queued, RECIPIENTS);
  console.log(
    JSON.stringify({
      store: postgres ? 'postgres' : 'sqlite',
      perTransaction: PER_TRANSACTION ? Number(PER_TRANSACTION) : 'default',
      recipients: RECIPIENTS,
      wallMs: Math.round(ms),
      msPerRecipient: Number((ms / RECIPIENTS).toFixed(2)),
      cpuMsPerRecipient: Number(((used.user + used.system) / 1_000 / RECIPIENTS).toFixed(2)),
      recipientsPerSecond: Math.round((RECIPIENTS / ms) * 1_000),
    }),
  );
} finally {
  await t.close();
  await postgres?.drop();
}
