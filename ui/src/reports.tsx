// Reports: first-response and resolution times per agent and per department.
import { useState } from 'react';
import { query } from './api.ts';
import { ErrorNote, useResource } from './common.tsx';
import { duration } from './format.ts';

interface Timing {
  medianMs: number | null;
  p90Ms: number | null;
  count: number;
}

interface Row {
  id: string | null;
  /** null for what no agent did (an API key, automation), or no department. */
  name: string | null;
  firstResponse: Timing;
  resolution: Timing;
}

interface Report {
  agents: Row[];
  departments: Row[];
}

const DAY = 86_400_000;
const ms = (v: number | null) => (v === null ? '—' : duration(v));

function Table({ caption, rows, none }: { caption: string; rows: Row[]; none: string }) {
  return (
    <table className="data-table">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">First response (median)</th>
          <th scope="col">First response (p90)</th>
          <th scope="col">Resolution (median)</th>
          <th scope="col">Resolution (p90)</th>
          <th scope="col">Conversations</th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 && (
          <tr>
            <td colSpan={6} className="hint">
              Nothing in this period.
            </td>
          </tr>
        )}
        {rows.map((r) => (
          <tr key={r.id ?? 'none'}>
            <th scope="row">{r.name ?? (r.id === null ? none : r.id)}</th>
            <td>{ms(r.firstResponse.medianMs)}</td>
            <td>{ms(r.firstResponse.p90Ms)}</td>
            <td>{ms(r.resolution.medianMs)}</td>
            <td>{ms(r.resolution.p90Ms)}</td>
            <td className="num">{Math.max(r.firstResponse.count, r.resolution.count)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ReportsPage() {
  const [days, setDays] = useState(7);
  const [to] = useState(() => Date.now());
  const from = to - days * DAY;
  const { data, error } = useResource<Report>(
    `/v1/reports/response-times${query({ from: new Date(from).toISOString(), to: new Date(to).toISOString() })}`,
  );
  return (
    <section className="page">
      <div className="page-head">
        <h1>Reports</h1>
        <label>
          Period
          <select value={days} onChange={(e) => setDays(Number(e.target.value))}>
            <option value={1}>Last 24 hours</option>
            <option value={7}>Last 7 days</option>
            <option value={30}>Last 30 days</option>
          </select>
        </label>
      </div>
      <ErrorNote error={error} />
      {data && (
        <>
          <Table
            caption="Per agent (who sent the first reply; who closed it)"
            rows={data.agents ?? []}
            none="No agent (API or automation)"
          />
          <Table
            caption="Per department (at the time)"
            rows={data.departments ?? []}
            none="No department"
          />
        </>
      )}
    </section>
  );
}
