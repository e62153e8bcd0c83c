// Canned responses: the shortcuts agents pick from the composer.
import { useState } from 'react';
import { api } from '../api.ts';
import { ErrorNote, errorMessage, useResource } from '../common.tsx';

interface Canned {
  id: string;
  shortcut: string;
  text: string;
}

export function CannedPage() {
  const list = useResource<{ items: Canned[] }>('/v1/canned-responses');
  const [shortcut, setShortcut] = useState('');
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);

  const run = async (work: () => Promise<unknown>) => {
    try {
      await work();
      setError(null);
      list.reload();
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  return (
    <section className="page">
      <h1>Canned responses</h1>
      <ErrorNote error={error ?? list.error} />
      <div className="columns">
        <article className="card">
          <ul className="plain">
            {list.data?.items.length === 0 && <li className="hint">None yet.</li>}
            {list.data?.items.map((c) => (
              <li key={c.id}>
                <div className="row-between">
                  <strong>{c.shortcut}</strong>
                  <button
                    type="button"
                    className="link danger"
                    onClick={() => void run(() => api.delete(`/v1/canned-responses/${c.id}`))}
                  >
                    Delete
                  </button>
                </div>
                <p className="hint">{c.text}</p>
              </li>
            ))}
          </ul>
        </article>
        <article className="card">
          <h2>New canned response</h2>
          <form
            className="stack-form"
            onSubmit={(e) => {
              e.preventDefault();
              void run(async () => {
                await api.post('/v1/canned-responses', { shortcut: shortcut.trim(), text });
                setShortcut('');
                setText('');
              });
            }}
          >
            <label>
              Shortcut
              <input
                required
                value={shortcut}
                onChange={(e) => setShortcut(e.target.value)}
                placeholder="thanks"
              />
            </label>
            <label>
              Text
              <textarea required rows={4} value={text} onChange={(e) => setText(e.target.value)} />
            </label>
            <button type="submit" className="primary">
              Add
            </button>
          </form>
        </article>
      </div>
    </section>
  );
}
