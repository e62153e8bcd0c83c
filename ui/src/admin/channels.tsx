// Connections and channels: the webhook URL and verify token to paste at the provider, health.
import { useState } from 'react';
import { ErrorNote, CopyField, useResource } from '../common.tsx';
import { dateTime } from '../format.ts';

interface Connection {
  id: string;
  provider: string;
  name: string;
  config: Record<string, unknown>;
  secretsSet: string[];
  webhookUrl: string;
  verifyToken?: string | null;
}

interface Channel {
  id: string;
  connectionId: string;
  name: string;
  phoneNumber: string;
  providerKey: string;
  wabaId: string | null;
  environment: string;
  throughputMps: number;
}

interface HealthEvent {
  kind?: string;
  type?: string;
  severity?: string;
  summary?: string;
  detail?: string;
  at?: string;
}

export function ChannelsPage() {
  const connections = useResource<{ items: Connection[] }>('/v1/connections');
  const channels = useResource<{ items: Channel[] }>('/v1/channels');
  return (
    <section className="page">
      <h1>Connections and channels</h1>
      <ErrorNote error={connections.error ?? channels.error} />
      {connections.data?.items.map((c) => (
        <article key={c.id} className="card">
          <h2>
            {c.name} <span className="chip subtle">{c.provider}</span>
          </h2>
          <CopyField label="Webhook URL (callback URL at the provider)" value={c.webhookUrl} />
          {c.verifyToken ? (
            <CopyField label="Verify token" value={c.verifyToken} />
          ) : (
            <p className="hint">
              Verify token:{' '}
              {c.secretsSet.includes('verifyToken')
                ? 'set (write-only; the value you chose when creating the connection)'
                : 'not needed for this provider'}
            </p>
          )}
          <h3>Numbers</h3>
          <ul className="plain">
            {channels.data?.items
              .filter((ch) => ch.connectionId === c.id)
              .map((ch) => (
                <ChannelRow key={ch.id} channel={ch} />
              ))}
          </ul>
        </article>
      ))}
    </section>
  );
}

function ChannelRow({ channel }: { channel: Channel }) {
  const [open, setOpen] = useState(false);
  const health = useResource<{ items: HealthEvent[] }>(
    open ? `/v1/channels/${encodeURIComponent(channel.id)}/health?limit=10` : null,
  );
  return (
    <li className="channel-row">
      <div>
        <strong>{channel.name}</strong> {channel.phoneNumber}{' '}
        <span className="chip subtle">{channel.environment}</span>
        <span className="hint">
          {' '}
          · {channel.throughputMps} msg/s · id {channel.providerKey}
        </span>
      </div>
      <button
        type="button"
        className="link"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
      >
        {open ? 'Hide health' : 'Health'}
      </button>
      {open && (
        <div className="health">
          <ErrorNote error={health.error} />
          {health.data && health.data.items.length === 0 && (
            <p className="ok">No health events: all good.</p>
          )}
          <ul className="plain">
            {health.data?.items.map((h, i) => (
              <li key={i}>
                <span
                  className={`chip ${h.severity === 'critical' || h.severity === 'error' ? 'danger' : ''}`}
                >
                  {h.kind ?? h.type ?? 'event'}
                </span>{' '}
                {h.summary ?? h.detail ?? ''} <span className="hint">{dateTime(h.at)}</span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </li>
  );
}
