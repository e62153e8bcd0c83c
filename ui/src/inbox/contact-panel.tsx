// The contact beside the conversation: profile, attributes, tags, consent, entry point, costs.
import { useCallback, useEffect, useState, type SyntheticEvent } from 'react';
import { ApiError, api } from '../api.ts';
import { dateTime, money } from '../format.ts';

interface Contact {
  id: string;
  name: string | null;
  phoneNumber?: string;
  phone?: string;
  attributes: Record<string, unknown>;
  tags: string[];
  entryPoint?: Record<string, unknown> | null;
  referral?: Record<string, unknown> | null;
  cost?: { amount: string | number; currency: string } | null;
  createdAt?: string;
}

interface ConsentEvent {
  id: string;
  kind: 'opt_in' | 'opt_out';
  purpose: string;
  source: string;
  at: string;
  recordedBy: string | null;
  implied: boolean;
}

interface ConsentOverview {
  events: ConsentEvent[];
  channels: Array<{
    channelId: string;
    purposes: Record<string, { state: string; allowed: boolean }>;
  }>;
}

const PURPOSES = ['marketing', 'utility', 'authentication'] as const;
const SOURCES = ['in_store', 'web_form', 'checkbox', 'email', 'sms', 'qr_code', 'api'] as const;

export function ContactPanel({
  contactId,
  channelId,
  businessName,
  open,
  onClose,
}: {
  contactId: string;
  channelId: string;
  /** What the customer sees as the business (the channel's name), to prefill opt-in evidence. */
  businessName: string;
  open: boolean;
  onClose: () => void;
}) {
  const [contact, setContact] = useState<Contact | null>(null);
  const [consent, setConsent] = useState<ConsentOverview | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    if (!contactId) return;
    try {
      const id = encodeURIComponent(contactId);
      const [c, k] = await Promise.all([
        api.get<Contact>(`/v1/contacts/${id}`),
        api.get<ConsentOverview>(`/v1/contacts/${id}/consent`).catch(() => null),
      ]);
      setContact(c);
      setConsent(k);
    } catch (err) {
      setError(err instanceof ApiError ? err.detail : 'The contact could not be loaded.');
    }
  }, [contactId]);

  useEffect(() => {
    void load();
  }, [load]);

  const save = async (patch: Partial<Pick<Contact, 'name' | 'attributes' | 'tags'>>) => {
    try {
      const updated = await api.patch<Contact>(
        `/v1/contacts/${encodeURIComponent(contactId)}`,
        patch,
      );
      setContact((c) => ({ ...(c ?? updated), ...updated }));
      setError(null);
    } catch (err) {
      setError(err instanceof ApiError ? err.detail : 'The change was not saved.');
    }
  };

  return (
    <aside className={`contact-panel ${open ? 'open' : ''}`} aria-label="Contact">
      <div className="panel-head">
        <h2>Contact</h2>
        <button
          type="button"
          className="link panel-close"
          onClick={onClose}
          aria-label="Close the contact panel"
        >
          ✕
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {contact && (
        <>
          <Profile contact={contact} onSave={(name) => void save({ name })} />
          <Tags tags={contact.tags} onSave={(tags) => void save({ tags })} />
          <Attributes
            attributes={contact.attributes}
            onSave={(attributes) => void save({ attributes })}
          />
          <EntryPoint entry={contact.entryPoint ?? contact.referral ?? null} />
          <section>
            <h3>Costs</h3>
            <p>
              {contact.cost
                ? money(contact.cost.amount, contact.cost.currency)
                : 'Nothing charged yet.'}
            </p>
          </section>
          <Consent
            contactId={contactId}
            channelId={channelId}
            defaultBusinessName={businessName}
            overview={consent}
            onRecorded={() => void load()}
          />
        </>
      )}
    </aside>
  );
}

function Profile({ contact, onSave }: { contact: Contact; onSave: (name: string) => void }) {
  const [name, setName] = useState(contact.name ?? '');
  useEffect(() => setName(contact.name ?? ''), [contact.name]);
  return (
    <section>
      <h3>Profile</h3>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) onSave(name.trim());
        }}
      >
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="submit" className="secondary">
          Save
        </button>
      </form>
      <dl>
        <dt>Phone</dt>
        <dd>{contact.phoneNumber ?? contact.phone}</dd>
        <dt>Since</dt>
        <dd>{dateTime(contact.createdAt)}</dd>
      </dl>
    </section>
  );
}

function Tags({ tags, onSave }: { tags: string[]; onSave: (tags: string[]) => void }) {
  const [value, setValue] = useState('');
  return (
    <section>
      <h3>Tags</h3>
      <ul className="chips">
        {tags.map((t) => (
          <li key={t} className="chip">
            {t}
            <button
              type="button"
              className="link"
              aria-label={`Remove tag ${t}`}
              onClick={() => onSave(tags.filter((x) => x !== t))}
            >
              ✕
            </button>
          </li>
        ))}
      </ul>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          const t = value.trim();
          if (t && !tags.includes(t)) onSave([...tags, t]);
          setValue('');
        }}
      >
        <label>
          Add a tag
          <input value={value} onChange={(e) => setValue(e.target.value)} />
        </label>
        <button type="submit" className="secondary">
          Add
        </button>
      </form>
    </section>
  );
}

function Attributes({
  attributes,
  onSave,
}: {
  attributes: Record<string, unknown>;
  onSave: (attributes: Record<string, unknown>) => void;
}) {
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const entries = Object.entries(attributes ?? {});
  return (
    <section>
      <h3>Attributes</h3>
      {entries.length === 0 ? (
        <p className="hint">None yet.</p>
      ) : (
        <dl>
          {entries.map(([k, v]) => (
            <div key={k} className="dl-row">
              <dt>{k}</dt>
              <dd>{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
            </div>
          ))}
        </dl>
      )}
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (key.trim()) onSave({ ...attributes, [key.trim()]: value });
          setKey('');
          setValue('');
        }}
      >
        <label>
          Attribute
          <input value={key} onChange={(e) => setKey(e.target.value)} />
        </label>
        <label>
          Value
          <input value={value} onChange={(e) => setValue(e.target.value)} />
        </label>
        <button type="submit" className="secondary">
          Set
        </button>
      </form>
    </section>
  );
}

function EntryPoint({ entry }: { entry: Record<string, unknown> | null }) {
  if (!entry) return null;
  // `{ at, referral: { source_type, source_id, source_url, headline, body, ctwa_clid … } }`
  const referral =
    entry.referral && typeof entry.referral === 'object'
      ? (entry.referral as Record<string, unknown>)
      : {};
  const at = typeof entry.at === 'string' ? { arrived: dateTime(entry.at) } : {};
  const fields = Object.entries({ ...at, ...referral }).filter(
    ([, v]) => typeof v === 'string' || typeof v === 'number',
  );
  return (
    <section>
      <h3>Entry point</h3>
      <dl>
        {fields.map(([k, v]) => (
          <div key={k} className="dl-row">
            <dt>{k.replaceAll('_', ' ')}</dt>
            <dd>
              {k === 'source_url' && typeof v === 'string' && /^https?:\/\//.test(v) ? (
                <a href={v} target="_blank" rel="noreferrer">
                  {v}
                </a>
              ) : (
                String(v)
              )}
            </dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function Consent({
  contactId,
  channelId,
  defaultBusinessName,
  overview,
  onRecorded,
}: {
  contactId: string;
  channelId: string;
  defaultBusinessName: string;
  overview: ConsentOverview | null;
  onRecorded: () => void;
}) {
  const [purpose, setPurpose] = useState<(typeof PURPOSES)[number]>('marketing');
  const [source, setSource] = useState<(typeof SOURCES)[number]>('in_store');
  const [note, setNote] = useState('');
  // OPT-2: an opt-in is only as good as the exact wording the person agreed to.
  const [consentText, setConsentText] = useState('');
  const [businessName, setBusinessName] = useState(defaultBusinessName);
  // The channel list may arrive after the panel: fill the name in unless the agent typed one.
  useEffect(() => {
    setBusinessName((current) => current || defaultBusinessName);
  }, [defaultBusinessName]);
  const [error, setError] = useState<string | null>(null);
  const current = overview?.channels.find((c) => c.channelId === channelId)?.purposes ?? {};

  const record = async (e: SyntheticEvent) => {
    e.preventDefault();
    try {
      await api.post(`/v1/contacts/${encodeURIComponent(contactId)}/consent`, {
        kind: 'opt_in',
        purpose,
        channelId,
        source,
        evidence: {
          text: consentText.trim(),
          businessName: businessName.trim(),
          ...(note.trim() ? { note: note.trim() } : {}),
        },
      });
      setNote('');
      setConsentText('');
      setError(null);
      onRecorded();
    } catch (err) {
      setError(err instanceof ApiError ? err.detail : 'The opt-in was not recorded.');
    }
  };

  return (
    <section>
      <h3>Consent</h3>
      <dl>
        {PURPOSES.map((p) => (
          <div key={p} className="dl-row">
            <dt>{p}</dt>
            <dd className={current[p]?.allowed ? 'ok' : 'warn'}>
              {current[p]?.state.replaceAll('_', ' ') ?? '—'}
            </dd>
          </div>
        ))}
      </dl>
      <form className="stack-form" onSubmit={(e) => void record(e)} aria-label="Record opt-in">
        <label>
          Purpose
          <select value={purpose} onChange={(e) => setPurpose(e.target.value as typeof purpose)}>
            {PURPOSES.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </label>
        <label>
          How it was given
          <select value={source} onChange={(e) => setSource(e.target.value as typeof source)}>
            {SOURCES.map((s) => (
              <option key={s} value={s}>
                {s.replaceAll('_', ' ')}
              </option>
            ))}
          </select>
        </label>
        <label>
          Consent text the person was shown
          <textarea
            required
            rows={2}
            value={consentText}
            onChange={(e) => setConsentText(e.target.value)}
          />
        </label>
        <label>
          Business name the person saw
          <input required value={businessName} onChange={(e) => setBusinessName(e.target.value)} />
        </label>
        <label>
          Evidence note
          <input value={note} onChange={(e) => setNote(e.target.value)} />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="secondary">
          Record opt-in
        </button>
      </form>
      <h4>History</h4>
      {overview && overview.events.length > 0 ? (
        <ol className="history">
          {[...overview.events].reverse().map((e) => (
            <li key={e.id}>
              <strong>{e.kind === 'opt_in' ? 'Opt-in' : 'Opt-out'}</strong> · {e.purpose} ·{' '}
              {e.source.replaceAll('_', ' ')}
              {e.implied ? ' (implied)' : ''}
              <br />
              <span className="hint">{dateTime(e.at)}</span>
            </li>
          ))}
        </ol>
      ) : (
        <p className="hint">No consent recorded.</p>
      )}
    </section>
  );
}
