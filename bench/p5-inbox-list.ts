// P5: the inbox list with 100,000 conversations and 1,000,000 messages on SQLite — the whole row
// path an agent's GET /v1/conversations takes (list query, then unread, last message, cost,
// contact, window, assignee per row), per filter: everything, mine, unassigned, department,
// snoozed, and search.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { loadConfig } from '../src/app/config.ts';
import { createParley } from '../src/app/container.ts';
import { listInbox } from '../src/app/inbox.ts';
import { silentLogger } from '../src/ports/logger.ts';
import type { InboxFilter } from '../src/ports/inbox-store.ts';
import { formatNumber } from './lib/format.ts';
import { numberOption, type BenchContext, type BenchReport, type ResultRow } from './lib/types.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T12:00:00Z');

/** Deterministic rows: the same data set every run, so figures compare. */
function seed(file: string, conversations: number, messagesEach: number, log: (l: string) => void) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  let r = 11;
  const random = () => {
    r = (r * 1_103_515_245 + 12_345) % 2 ** 31;
    return r / 2 ** 31;
  };
  const ws = 'ws-bench';
  db.prepare(
    `insert into workspaces (id, name, settings, created_at) values (?, 'Bench', '{}', ?)`,
  ).run(ws, NOW);
  db.prepare(
    `insert into connections (id, workspace_id, provider, name, config, secrets_encrypted, created_at, updated_at)
     values ('conn-1', ?, 'sandbox', 'Sandbox', '{}', 'x', ?, ?)`,
  ).run(ws, NOW, NOW);
  const channels = ['ch-1', 'ch-2', 'ch-3'];
  for (const [i, ch] of channels.entries())
    db.prepare(
      `insert into channels (id, workspace_id, connection_id, provider_key, phone_number, waba_id, name,
         throughput_mps, environment, allow_list, created_at)
       values (?, ?, 'conn-1', ?, ?, null, ?, 80, 'production', '[]', ?)`,
    ).run(ch, ws, `pn-${i}`, `1555000000${i}`, `Line ${i}`, NOW);
  const agents = Array.from({ length: 20 }, (_, i) => `agent-${i}`);
  for (const a of agents)
    db.prepare(
      `insert into agents (id, workspace_id, email, name, role, state, password_hash, department_ids, created_at, updated_at)
       values (?, ?, ?, ?, 'agent', 'active', null, '[]', ?, ?)`,
    ).run(a, ws, `${a}@bench.test`, `Agent ${a}`, NOW, NOW);
  const departments = Array.from({ length: 5 }, (_, i) => `dept-${i}`);
  for (const d of departments)
    db.prepare(
      `insert into departments (id, workspace_id, name, created_at) values (?, ?, ?, ?)`,
    ).run(d, ws, `Team ${d}`, NOW);

  const contact = db.prepare(
    `insert into contacts (id, workspace_id, wa_id, name, user_id, attributes, tags, created_at, updated_at)
     values (?, ?, ?, ?, null, '{}', '[]', ?, ?)`,
  );
  const conversation = db.prepare(
    `insert into conversations (id, workspace_id, channel_id, contact_id, state, assignee_id, created_at,
       last_message_at, closed_at, department_id, snoozed_until, labels, read_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', ?)`,
  );
  const window = db.prepare(
    `insert into care_windows (channel_id, contact_id, last_inbound_at, closed_at) values (?, ?, ?, null)`,
  );
  const message = db.prepare(
    `insert into messages (id, workspace_id, channel_id, contact_id, conversation_id, direction, type, content,
       text, status, provider_message_id, provider_error, created_at, updated_at, needs_review)
     values (?, ?, ?, ?, ?, ?, 'text', '{}', ?, ?, ?, 'null', ?, ?, 0)`,
  );
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const id = `c${String(i).padStart(6, '0')}`;
      const contactId = `k${String(i).padStart(6, '0')}`;
      const ch = channels[i % channels.length]!;
      const waId = `4477${String(10_000_000 + i)}`;
      contact.run(contactId, ws, waId, `Customer ${i}`, NOW, NOW);
      const start = NOW - Math.floor(random() * 90 * DAY);
      const last = start + (messagesEach - 1) * 60_000;
      const roll = random();
      // A working inbox: most conversations closed, a fifth open, a few snoozed.
      const state = roll < 0.2 || roll >= 0.97 ? 'open' : 'closed';
      const snoozed = roll >= 0.97 ? NOW + DAY : null;
      const assignee = random() < 0.4 ? null : agents[Math.floor(random() * agents.length)]!;
      const dept = random() < 0.5 ? null : departments[Math.floor(random() * departments.length)]!;
      conversation.run(
        id,
        ws,
        ch,
        contactId,
        state,
        assignee,
        start,
        last,
        state === 'closed' ? last : null,
        dept,
        snoozed,
        random() < 0.5 ? last - 120_000 : null,
      );
      window.run(ch, contactId, last - 60_000);
      for (let m = 0; m < messagesEach; m++) {
        const inbound = m % 2 === 0;
        const at = start + m * 60_000;
        message.run(
          `${id}-m${m}`,
          ws,
          ch,
          contactId,
          id,
          inbound ? 'inbound' : 'outbound',
          `message ${m} of ${i}`,
          inbound ? 'delivered' : 'read',
          `wamid.${id}.${m}`,
          at,
          at,
        );
      }
    }
  });
  const step = 5_000;
  const started = performance.now();
  for (let from = 0; from < conversations; from += step) {
    batch(from, Math.min(conversations, from + step));
    if ((from / step) % 4 === 0) log(`  seeded ${from + step} conversations`);
  }
  db.exec('analyze');
  db.close();
  return { seconds: (performance.now() - started) / 1000, agents, departments, workspaceId: ws };
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

export async function run(context: BenchContext): Promise<BenchReport> {
  const conversations = numberOption(context.options, 'conversations', 100_000);
  const messagesEach = numberOption(context.options, 'messages-each', 10);
  const iterations = numberOption(context.options, 'iterations', 200);
  const dir = mkdtempSync(join(tmpdir(), 'parley-p5-'));
  try {
    const config = loadConfig({ PARLEY_DATA_DIR: dir, PARLEY_LOG_LEVEL: 'silent' });
    const clock = { now: () => NOW };
    // Parley migrates the schema; the data goes straight into the SQLite file beside its
    // connection (WAL lets both in), which is far faster than the API and changes no figure.
    const parley = await createParley(config, { clock, logger: quietFastifyLogger() });
    context.log(`seeding ${formatNumber(conversations)} conversations × ${messagesEach} messages`);
    const seeded = seed(config.sqliteFile, conversations, messagesEach, (l) => context.log(l));
    const deps = parley.deps;
    const base = { workspaceId: seeded.workspaceId, limit: 50 };
    const cases: Array<[label: string, filter: Omit<InboxFilter, 'now'>]> = [
      ['everything, newest first', base],
      ['open', { ...base, status: 'open' }],
      ['mine (open, one of 20 agents)', { ...base, status: 'open', assigneeId: seeded.agents[3]! }],
      ['unassigned (open)', { ...base, status: 'open', assigneeId: null }],
      [
        'department (open, one of 5)',
        { ...base, status: 'open', departmentId: seeded.departments[2]! },
      ],
      ['snoozed', { ...base, status: 'snoozed' }],
      ['search: one customer by number', { ...base, search: '+447710042424' }],
      ['search: one customer by name ("customer 42424")', { ...base, search: 'customer 42424' }],
      ['search: a name shared by many ("customer 9")', { ...base, search: 'customer 9' }],
    ];
    const rows: ResultRow[] = [];
    const notes: string[] = [];
    let worst = 0;
    for (const [label, filter] of cases) {
      // Warm-up: the first calls fill SQLite's page cache and V8's inline caches.
      for (let i = 0; i < 5; i++) await listInbox(deps, filter);
      const times: number[] = [];
      let items = 0;
      for (let i = 0; i < iterations; i++) {
        const t0 = performance.now();
        const page = await listInbox(deps, filter);
        times.push(performance.now() - t0);
        items = page.items.length;
      }
      times.sort((a, b) => a - b);
      const p95 = quantile(times, 0.95);
      worst = Math.max(worst, p95);
      rows.push({ label: `${label}: p95`, value: p95, unit: 'ms', target: { op: '<', value: 50 } });
      notes.push(
        `${label}: p50 ${formatNumber(quantile(times, 0.5))} ms, p95 ${formatNumber(p95)} ms, ${items} rows per page.`,
      );
      context.log(
        `  ${label}: p50 ${quantile(times, 0.5).toFixed(2)} ms, p95 ${p95.toFixed(2)} ms (${items} rows)`,
      );
    }
    await parley.stop();
    rows.push({
      label: 'slowest filter: p95',
      value: worst,
      unit: 'ms',
      target: { op: '<', value: 50 },
    });
    notes.unshift(
      `Setup: ${formatNumber(conversations)} conversations, ${formatNumber(conversations * messagesEach)} messages, ${formatNumber(conversations)} contacts, 3 channels, 20 agents, 5 departments in one workspace on SQLite (seeded in ${seeded.seconds.toFixed(0)} s straight into the file, then \`analyze\`); ~20 % open, 3 % snoozed, 40 % unassigned.`,
      `Each figure is ${iterations} sequential calls of \`listInbox\` (the use case behind GET /v1/conversations, 50 rows a page): the list query plus, per row, unread count, last message, cost, contact, window and assignee/department lookups; HTTP and JSON are not included.`,
    );
    return {
      id: 'p5',
      title: 'inbox list with 100,000 conversations / 1,000,000 messages',
      rows,
      notes,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function quietFastifyLogger() {
  const logger = Object.assign(Object.create(null) as object, silentLogger, {
    fatal() {},
    trace() {},
    level: 'silent',
    child() {
      return logger;
    },
  });
  return logger as never;
}
