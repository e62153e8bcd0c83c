// Campaigns: list with progress, create with an estimate (as the campaigns API provides).
import { useState, type SyntheticEvent } from 'react';
import { api, type TemplateSummary } from '../api.ts';
import { ErrorNote, errorMessage, useResource } from '../common.tsx';
import { dateTime } from '../format.ts';

interface Campaign {
  id: string;
  name: string;
  status: string;
  templateName?: string;
  createdAt?: string;
  progress?: Record<string, number>;
  counts?: Record<string, number>;
  stats?: Record<string, number>;
  total?: number;
}

function countsOf(c: Campaign): Record<string, number> {
  return c.progress ?? c.counts ?? c.stats ?? {};
}

export function CampaignsPage() {
  const list = useResource<{ items: Campaign[] }>('/v1/campaigns');
  const templates = useResource<{ items: TemplateSummary[] }>('/v1/templates');
  const channels = useResource<{ items: Array<{ id: string; name: string }> }>('/v1/channels');
  const [form, setForm] = useState({ name: '', templateId: '', channelId: '', audience: '' });
  const [estimate, setEstimate] = useState<Record<string, unknown> | null>(null);
  const [error, setError] = useState<string | null>(null);

  const body = () => {
    const template = templates.data?.items.find((t) => t.id === form.templateId);
    return {
      name: form.name,
      channelId: form.channelId || channels.data?.items[0]?.id,
      template: template
        ? { name: template.name, language: { code: template.language } }
        : undefined,
      audience: {
        phones: form.audience
          .split(/[\s,;]+/)
          .map((p) => p.trim())
          .filter(Boolean),
      },
    };
  };

  const runEstimate = async () => {
    try {
      setEstimate(await api.post<Record<string, unknown>>('/v1/campaigns/estimate', body()));
      setError(null);
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  const create = async (e: SyntheticEvent) => {
    e.preventDefault();
    try {
      await api.post('/v1/campaigns', body());
      setForm({ name: '', templateId: '', channelId: '', audience: '' });
      setEstimate(null);
      setError(null);
      list.reload();
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
              const counts = countsOf(c);
              const total = c.total ?? Object.values(counts).reduce((a, b) => a + b, 0);
              const done = (counts.delivered ?? 0) + (counts.read ?? 0) + (counts.sent ?? 0);
              return (
                <li key={c.id} className="campaign">
                  <div className="row-between">
                    <strong>{c.name}</strong>
                    <span className="chip">{c.status}</span>
                  </div>
                  <progress
                    max={Math.max(1, total)}
                    value={done}
                    aria-label={`${c.name} progress`}
                  />
                  <span className="hint">
                    {Object.entries(counts)
                      .map(([k, v]) => `${k} ${v}`)
                      .join(' · ')}{' '}
                    · {dateTime(c.createdAt)}
                  </span>
                </li>
              );
            })}
          </ul>
        </article>
        <article className="card">
          <h2>New campaign</h2>
          <form className="stack-form" onSubmit={(e) => void create(e)}>
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
                value={form.channelId}
                onChange={(e) => setForm({ ...form, channelId: e.target.value })}
              >
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
                required
                value={form.templateId}
                onChange={(e) => setForm({ ...form, templateId: e.target.value })}
              >
                <option value="">Choose…</option>
                {templates.data?.items
                  .filter((t) => t.status === 'APPROVED')
                  .map((t) => (
                    <option key={t.id} value={t.id}>
                      {t.name} ({t.language})
                    </option>
                  ))}
              </select>
            </label>
            <label>
              Recipients (phone numbers)
              <textarea
                rows={3}
                value={form.audience}
                onChange={(e) => setForm({ ...form, audience: e.target.value })}
              />
            </label>
            {estimate && <pre className="estimate">{JSON.stringify(estimate, null, 2)}</pre>}
            <div className="composer-bar">
              <button type="button" className="secondary" onClick={() => void runEstimate()}>
                Estimate
              </button>
              <button type="submit" className="primary">
                Create
              </button>
            </div>
          </form>
        </article>
      </div>
    </section>
  );
}
