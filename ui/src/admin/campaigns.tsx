// Campaigns: drafts with their estimate, start/pause/resume/cancel, live progress per outcome.
import { useEffect, useState, type SyntheticEvent } from 'react';
import { api, type TemplateSummary } from '../api.ts';
import { ErrorNote, errorMessage, useResource } from '../common.tsx';
import { useLive } from '../live.ts';
import { dateTime } from '../format.ts';

interface Campaign {
  id: string;
  name: string;
  channelId: string;
  template: { name: string; language: string; category: string | null };
  state: 'draft' | 'scheduled' | 'running' | 'paused' | 'completed' | 'cancelled';
  pauseReason: string | null;
  pauseDetail: string | null;
  createdAt: string;
  progress?: Record<string, unknown> & { total: number };
}

interface Estimate {
  recipients: number;
  totals: Array<{ currency: string; amount: string }>;
  illustrativeRates: boolean;
  notes: string[];
}

const OUTCOMES = [
  'pending',
  'queued',
  'review',
  'sent',
  'delivered',
  'read',
  'failed',
  'skipped',
] as const;

/** Which actions a campaign in this state accepts (the server enforces the same). */
const ACTIONS: Record<Campaign['state'], Array<'start' | 'pause' | 'resume' | 'cancel'>> = {
  draft: ['start', 'cancel'],
  scheduled: ['cancel'],
  running: ['pause', 'cancel'],
  paused: ['resume', 'cancel'],
  completed: [],
  cancelled: [],
};

export function CampaignsPage() {
  const list = useResource<{ items: Campaign[] }>('/v1/campaigns?limit=50');
  const [details, setDetails] = useState<Record<string, Campaign>>({});
  const [estimates, setEstimates] = useState<Record<string, Estimate>>({});
  const [error, setError] = useState<string | null>(null);
  const { reload } = list;

  // Progress lives on each campaign's detail; the list is short, so fetch each one.
  useEffect(() => {
    for (const c of list.data?.items ?? [])
      api
        .get<Campaign>(`/v1/campaigns/${c.id}`)
        .then((d) => setDetails((all) => ({ ...all, [c.id]: d })))
        .catch(() => undefined);
  }, [list.data]);

  useLive((event) => {
    if (event.type === 'campaign.progress') reload();
  });

  const act = async (id: string, action: string) => {
    try {
      await api.post(`/v1/campaigns/${id}/${action}`);
      setError(null);
      reload();
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  const estimate = async (id: string) => {
    try {
      const e = await api.get<Estimate>(`/v1/campaigns/${id}/estimate`);
      setEstimates((all) => ({ ...all, [id]: e }));
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  if (list.error && !list.data)
    return (
      <section className="page">
        <h1>Campaigns</h1>
        <p className="hint">{list.error}</p>
      </section>
    );

  return (
    <section className="page">
      <h1>Campaigns</h1>
      <ErrorNote error={error} />
      <div className="columns">
        <article className="card">
          <h2>All campaigns</h2>
          <ul className="plain">
            {list.data?.items.length === 0 && <li className="hint">No campaigns yet.</li>}
            {list.data?.items.map((c) => {
              const d = details[c.id] ?? c;
              const p = d.progress;
              const count = (k: string) => (typeof p?.[k] === 'number' ? p[k] : 0);
              const done = count('sent') + count('delivered') + count('read');
              const est = estimates[c.id];
              return (
                <li key={c.id} className="campaign">
                  <div className="row-between">
                    <strong>{c.name}</strong>
                    <span className="chip">{d.state}</span>
                  </div>
                  <span className="hint">
                    {c.template.name} ({c.template.language}) · created {dateTime(c.createdAt)}
                    {d.pauseReason ? ` · paused: ${d.pauseDetail ?? d.pauseReason}` : ''}
                  </span>
                  {p && (
                    <>
                      <progress
                        max={Math.max(1, p.total)}
                        value={done}
                        aria-label={`${c.name}: ${done} of ${p.total} sent`}
                      />
                      <span className="hint">
                        {OUTCOMES.filter((o) => count(o) > 0)
                          .map((o) => `${o} ${count(o)}`)
                          .join(' · ') || `${p.total} recipients`}
                      </span>
                    </>
                  )}
                  {est && (
                    <p className="hint" role="status">
                      Estimate for {est.recipients} recipients:{' '}
                      {est.totals.map((t) => `${t.amount} ${t.currency}`).join(' + ') || 'free'}
                      {est.illustrativeRates ? ' (illustrative rates)' : ''}
                    </p>
                  )}
                  <div className="composer-bar">
                    {(d.state === 'draft' || d.state === 'paused') && (
                      <button type="button" className="link" onClick={() => void estimate(c.id)}>
                        Estimate
                      </button>
                    )}
                    {ACTIONS[d.state].map((a) => (
                      <button
                        key={a}
                        type="button"
                        className={a === 'cancel' ? 'link danger' : 'secondary'}
                        onClick={() => void act(c.id, a)}
                      >
                        {a.charAt(0).toUpperCase() + a.slice(1)}
                      </button>
                    ))}
                  </div>
                </li>
              );
            })}
          </ul>
        </article>
        <NewCampaign onCreated={reload} />
      </div>
    </section>
  );
}

function NewCampaign({ onCreated }: { onCreated: () => void }) {
  const templates = useResource<{ items: TemplateSummary[] }>('/v1/templates');
  const channels = useResource<{ items: Array<{ id: string; name: string }> }>('/v1/channels');
  const [form, setForm] = useState({
    name: '',
    templateId: '',
    channelId: '',
    by: 'tags' as 'tags' | 'csv',
    tags: '',
    csv: 'phone,body.1\n',
  });
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const create = async (e: SyntheticEvent) => {
    e.preventDefault();
    const template = templates.data?.items.find((t) => t.id === form.templateId);
    if (!template) return;
    try {
      const created = await api.post<Campaign>('/v1/campaigns', {
        name: form.name,
        ...(form.channelId ? { channelId: form.channelId } : {}),
        template: { name: template.name, language: { code: template.language } },
        audience:
          form.by === 'csv'
            ? { csv: form.csv, invalidLines: 'skip' }
            : {
                tags: form.tags
                  .split(',')
                  .map((t) => t.trim())
                  .filter(Boolean),
              },
      });
      const total = created.progress?.total ?? 0;
      const skipped = typeof created.progress?.skipped === 'number' ? created.progress.skipped : 0;
      setNotice(
        `Draft "${created.name}" created: ${total - skipped} to send` +
          (skipped > 0 ? `, ${skipped} skipped (no consent or not reachable)` : '') +
          '. Estimate it, then start it.',
      );
      setError(null);
      setForm((f) => ({ ...f, name: '' }));
      onCreated();
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  return (
    <article className="card">
      <h2>New campaign</h2>
      <form className="stack-form" onSubmit={(e) => void create(e)} aria-label="New campaign">
        <label>
          Name
          <input
            required
            value={form.name}
            onChange={(e) => setForm({ ...form, name: e.target.value })}
          />
        </label>
        <label>
          Channel
          <select
            aria-label="Channel"
            value={form.channelId}
            onChange={(e) => setForm({ ...form, channelId: e.target.value })}
          >
            <option value="">The workspace's first</option>
            {channels.data?.items.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Template
          <select
            aria-label="Template"
            required
            value={form.templateId}
            onChange={(e) => setForm({ ...form, templateId: e.target.value })}
          >
            <option value="">Choose an approved template…</option>
            {templates.data?.items
              .filter((t) => (t.effectiveStatus ?? t.status) === 'APPROVED')
              .map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name} ({t.language}, {t.category.toLowerCase()})
                </option>
              ))}
          </select>
        </label>
        <fieldset className="inline-form">
          <legend>Audience</legend>
          <label className="inline">
            <input
              type="radio"
              name="audience"
              checked={form.by === 'tags'}
              onChange={() => setForm({ ...form, by: 'tags' })}
            />
            Contacts with tags
          </label>
          <label className="inline">
            <input
              type="radio"
              name="audience"
              checked={form.by === 'csv'}
              onChange={() => setForm({ ...form, by: 'csv' })}
            />
            A CSV list
          </label>
        </fieldset>
        {form.by === 'tags' ? (
          <label>
            Tags (every one must match; comma separated)
            <input value={form.tags} onChange={(e) => setForm({ ...form, tags: e.target.value })} />
          </label>
        ) : (
          <label>
            CSV: a phone column and one column per parameter (body.1, header.1 …)
            <textarea
              rows={5}
              value={form.csv}
              onChange={(e) => setForm({ ...form, csv: e.target.value })}
            />
          </label>
        )}
        <p className="hint">
          Only contacts whose consent allows the template&apos;s category are included (OPT-7); the
          rest are reported as skipped.
        </p>
        <ErrorNote error={error} />
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <button type="submit" className="primary">
          Create draft
        </button>
      </form>
    </article>
  );
}
