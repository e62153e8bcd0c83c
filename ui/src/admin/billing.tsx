// Billing: charges by month, category and channel, and the free tier used.
import { useEffect, useState } from 'react';
import { api } from '../api.ts';
import { BarChart, ErrorNote, errorMessage } from '../common.tsx';

interface UsageLine {
  currency: string;
  messages: number;
  billable: number;
  amount: string;
}

interface Usage {
  month: string;
  rateCard: { illustrative: boolean };
  totals: UsageLine[];
  byChannel: Array<UsageLine & { channelId: string }>;
  byCategory: Array<UsageLine & { category: string }>;
  freeTier: Array<{ waba: string; used: number; allowance: number | null }>;
}

function months(count: number): string[] {
  const now = new Date();
  return Array.from({ length: count }, (_, i) => {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - (count - 1 - i), 1));
    return d.toISOString().slice(0, 7);
  });
}

const sum = (lines: UsageLine[]) => lines.reduce((a, l) => a + Number(l.amount), 0);

export function BillingPage() {
  const [reports, setReports] = useState<Usage[]>([]);
  const [selected, setSelected] = useState<string>(months(1)[0] ?? '');
  const [channels, setChannels] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    Promise.all(months(6).map((m) => api.get<Usage>(`/v1/billing/usage?month=${m}`)))
      .then(setReports)
      .catch((err: unknown) => setError(errorMessage(err)));
    api
      .get<{ items: Array<{ id: string; name: string }> }>('/v1/channels')
      .then((r) => setChannels(Object.fromEntries(r.items.map((c) => [c.id, c.name]))))
      .catch(() => undefined);
  }, []);

  const current = reports.find((r) => r.month === selected);
  const currency =
    current?.totals[0]?.currency ?? reports.find((r) => r.totals[0])?.totals[0]?.currency ?? 'USD';
  const fmt = (v: number) => `${v.toFixed(2)} ${currency}`;

  return (
    <section className="page">
      <div className="page-head">
        <h1>Billing</h1>
        <label>
          Month
          <select value={selected} onChange={(e) => setSelected(e.target.value)}>
            {months(6)
              .reverse()
              .map((m) => (
                <option key={m}>{m}</option>
              ))}
          </select>
        </label>
        <a className="secondary button" href={`/v1/billing/usage?month=${selected}&format=csv`}>
          Export CSV
        </a>
      </div>
      <ErrorNote error={error} />
      {current?.rateCard.illustrative && (
        <p className="hint">
          Amounts use the illustrative rate card: import your provider's rates for real figures.
        </p>
      )}
      <div className="charts">
        <BarChart
          title="Charges by month"
          rows={reports.map((r) => ({ label: r.month, value: sum(r.totals) }))}
          format={fmt}
        />
        <BarChart
          title={`By category, ${selected}`}
          rows={(current?.byCategory ?? []).map((l) => ({
            label: l.category || '—',
            value: Number(l.amount),
          }))}
          format={fmt}
        />
        <BarChart
          title={`By channel, ${selected}`}
          rows={(current?.byChannel ?? []).map((l) => ({
            label: channels[l.channelId] ?? l.channelId,
            value: Number(l.amount),
          }))}
          format={fmt}
        />
        <BarChart
          title={`Free tier used, ${selected}`}
          rows={(current?.freeTier ?? []).map((f) => ({ label: `WABA ${f.waba}`, value: f.used }))}
          format={(v) => {
            const allowance = current?.freeTier[0]?.allowance;
            return allowance ? `${v} of ${allowance}` : String(v);
          }}
        />
      </div>
    </section>
  );
}
