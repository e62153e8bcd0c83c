// Templates: the list with statuses, an editor with live lint findings and preview, submit.
import { useEffect, useMemo, useState } from 'react';
import { api, type TemplateSummary } from '../api.ts';
import { ErrorNote, errorMessage, useResource } from '../common.tsx';

interface Finding {
  rule: string;
  severity: 'error' | 'warning' | 'info';
  message: string;
  path?: string;
}

const CATEGORIES = ['UTILITY', 'MARKETING', 'AUTHENTICATION'] as const;

interface Draft {
  name: string;
  language: string;
  category: (typeof CATEGORIES)[number];
  header: string;
  body: string;
  footer: string;
  examples: string;
}

const EMPTY: Draft = {
  name: '',
  language: 'en_US',
  category: 'UTILITY',
  header: '',
  body: '',
  footer: '',
  examples: '',
};

function definitionOf(d: Draft) {
  const examples = d.examples
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const components: Array<Record<string, unknown>> = [];
  if (d.header.trim()) components.push({ type: 'HEADER', format: 'TEXT', text: d.header });
  components.push({
    type: 'BODY',
    text: d.body,
    ...(examples.length > 0 ? { example: { body_text: [examples] } } : {}),
  });
  if (d.footer.trim()) components.push({ type: 'FOOTER', text: d.footer });
  return { name: d.name, language: d.language, category: d.category, components };
}

/** The body with its examples filled in, as the customer would read it. */
function localPreview(d: Draft): string {
  const examples = d.examples.split(',').map((e) => e.trim());
  const fill = (text: string) =>
    text.replace(/\{\{\s*(\d+)\s*\}\}/g, (m, n: string) => examples[Number(n) - 1] || m);
  return [d.header && fill(d.header), fill(d.body), d.footer].filter(Boolean).join('\n\n');
}

export function TemplatesPage() {
  const list = useResource<{ items: TemplateSummary[] }>('/v1/templates');
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [findings, setFindings] = useState<Finding[]>([]);
  const [valid, setValid] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const definition = useMemo(() => definitionOf(draft), [draft]);

  // Live lint: the same TPL rules the API enforces on create, as the admin types.
  useEffect(() => {
    if (!draft.name && !draft.body) {
      setFindings([]);
      return;
    }
    const timer = setTimeout(() => {
      api
        .post<{ valid: boolean; findings: Finding[] }>('/v1/templates/lint', definition)
        .then((r) => {
          setFindings(r.findings);
          setValid(r.valid);
        })
        .catch((err: unknown) => setError(errorMessage(err)));
    }, 250);
    return () => clearTimeout(timer);
  }, [definition, draft.name, draft.body]);

  const create = async (submit: boolean) => {
    try {
      const created = await api.post<TemplateSummary>('/v1/templates', definition);
      if (submit) await api.post(`/v1/templates/${created.id}/submit`, {});
      setNotice(
        submit ? `${created.name} submitted for review.` : `${created.name} saved as a draft.`,
      );
      setDraft(EMPTY);
      setError(null);
      list.reload();
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  const submitExisting = async (t: TemplateSummary) => {
    try {
      await api.post(`/v1/templates/${t.id}/submit`, {});
      list.reload();
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  const sync = async () => {
    try {
      await api.post('/v1/templates/sync', {});
      list.reload();
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  const field = <K extends keyof Draft>(key: K) => ({
    value: draft[key],
    onChange: (e: { target: { value: string } }) =>
      setDraft({ ...draft, [key]: e.target.value as Draft[K] }),
  });

  return (
    <section className="page">
      <div className="page-head">
        <h1>Templates</h1>
        <button type="button" className="secondary" onClick={() => void sync()}>
          Sync with the provider
        </button>
      </div>
      <ErrorNote error={error ?? list.error} />
      {notice && (
        <p role="status" className="notice">
          {notice}
        </p>
      )}
      <div className="columns">
        <article className="card">
          <h2>All templates</h2>
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Language</th>
                <th scope="col">Category</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data?.items.map((t) => (
                <tr key={t.id}>
                  <th scope="row">{t.name}</th>
                  <td>{t.language}</td>
                  <td>{t.category}</td>
                  <td>
                    <span
                      className={`chip status-${(t.effectiveStatus ?? t.status).toLowerCase()}`}
                    >
                      {(t.effectiveStatus ?? t.status).toLowerCase()}
                    </span>
                    {t.rejectionReason && <span className="hint"> {t.rejectionReason}</span>}
                  </td>
                  <td>
                    {t.status === 'DRAFT' && (
                      <button type="button" className="link" onClick={() => void submitExisting(t)}>
                        Submit
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </article>
        <article className="card">
          <h2>New template</h2>
          <form
            className="stack-form"
            onSubmit={(e) => e.preventDefault()}
            aria-label="Template editor"
          >
            <label>
              Name
              <input {...field('name')} placeholder="order_update" />
            </label>
            <div className="filter-row">
              <label>
                Language
                <input {...field('language')} />
              </label>
              <label>
                Category
                <select {...field('category')}>
                  {CATEGORIES.map((c) => (
                    <option key={c}>{c}</option>
                  ))}
                </select>
              </label>
            </div>
            <label>
              Header (optional)
              <input {...field('header')} />
            </label>
            <label>
              Body
              <textarea
                rows={4}
                {...field('body')}
                placeholder="Hi {{1}}, your order {{2}} is on its way."
              />
            </label>
            <label>
              Examples for the body parameters (comma separated)
              <input {...field('examples')} placeholder="Ada, #1042" />
            </label>
            <label>
              Footer (optional)
              <input {...field('footer')} />
            </label>
            <div className="preview" aria-live="polite">
              <span className="preview-label">Preview</span>
              <p>{localPreview(draft) || '…'}</p>
            </div>
            <ul className="findings" aria-label="Lint findings" aria-live="polite">
              {findings.map((f, i) => (
                <li key={i} className={`finding ${f.severity}`}>
                  <strong>{f.rule}</strong> {f.message}
                </li>
              ))}
              {findings.length === 0 && draft.body && <li className="finding ok">No findings.</li>}
            </ul>
            <div className="composer-bar">
              <button
                type="button"
                className="secondary"
                disabled={!valid}
                onClick={() => void create(false)}
              >
                Save draft
              </button>
              <button
                type="button"
                className="primary"
                disabled={!valid}
                onClick={() => void create(true)}
              >
                Save and submit
              </button>
            </div>
          </form>
        </article>
      </div>
    </section>
  );
}
