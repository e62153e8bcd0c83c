// Small shared pieces: loading a resource with its error, bar charts, copy buttons.
import { useCallback, useEffect, useState } from 'react';
import { ApiError, api } from './api.ts';

export function useResource<T>(path: string | null): {
  data: T | null;
  error: string | null;
  reload: () => void;
} {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!path) return;
    let live = true;
    api
      .get<T>(path)
      .then((d) => {
        if (!live) return;
        setData(d);
        setError(null);
      })
      .catch((err: unknown) => {
        if (!live) return;
        setError(
          err instanceof ApiError
            ? err.status === 404
              ? 'Not available on this Parley yet.'
              : err.detail
            : 'Could not load.',
        );
      });
    return () => {
      live = false;
    };
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, reload };
}

export function ErrorNote({ error }: { error: string | null }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {error}
    </p>
  );
}

export function errorMessage(err: unknown): string {
  return err instanceof ApiError ? err.detail : 'That did not work. Try again.';
}

/** Horizontal bars: accessible as a table, drawn with CSS widths. */
export function BarChart({
  title,
  rows,
  format,
}: {
  title: string;
  rows: Array<{ label: string; value: number }>;
  format: (value: number) => string;
}) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  return (
    <figure className="bar-chart">
      <figcaption>{title}</figcaption>
      {rows.length === 0 ? (
        <p className="hint">No data.</p>
      ) : (
        <table>
          <tbody>
            {rows.map((r) => (
              <tr key={r.label}>
                <th scope="row">{r.label}</th>
                <td>
                  <span className="bar" style={{ width: `${(r.value / max) * 100}%` }} />
                </td>
                <td className="num">{format(r.value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </figure>
  );
}

export function CopyField({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="copy-field">
      <label>
        {label}
        <input readOnly value={value} onFocus={(e) => e.target.select()} />
      </label>
      <button
        type="button"
        className="secondary"
        onClick={() =>
          void navigator.clipboard?.writeText(value).then(() => {
            setCopied(true);
            setTimeout(() => setCopied(false), 1500);
          })
        }
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}
