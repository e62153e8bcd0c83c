// One conversation: its header actions, the transcript with ticks, the composer, the contact.
import { useCallback, useEffect, useRef, useState } from 'react';
import {
  ApiError,
  api,
  normalizeConversation,
  normalizeMessage,
  type ConversationItem,
  type Page,
  type Session,
  type TranscriptItem,
  type TranscriptMedia,
} from '../api.ts';
import { dateTime, ticks, time, windowLabel } from '../format.ts';
import { Composer } from './composer.tsx';
import { ContactPanel } from './contact-panel.tsx';
import { useNow, type Directory } from './inbox-page.tsx';

const HOUR = 3_600_000;

interface BotRun {
  status: string;
  automation: string | null;
}

/** "Bot (Opening hours): handed off to a person" and the like. */
function botLabel(run: BotRun): string {
  const name = run.automation ? `Bot (${run.automation})` : 'Bot';
  switch (run.status) {
    case 'handed_off':
      return `${name}: handed off to a person`;
    case 'waiting':
      return `${name}: waiting for the customer`;
    case 'running':
      return `${name}: active`;
    case 'stopped':
      return `${name}: stopped (an agent took over)`;
    default:
      return `${name}: ${run.status.replaceAll('_', ' ')}`;
  }
}

export function ConversationView({
  id,
  summary,
  session,
  directory,
  revision,
  onChanged,
  onBack,
}: {
  id: string;
  summary: ConversationItem | null;
  session: Session;
  directory: Directory;
  revision: number;
  onChanged: () => void;
  onBack: () => void;
}) {
  const [conversation, setConversation] = useState<ConversationItem | null>(summary);
  const [messages, setMessages] = useState<TranscriptItem[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [quote, setQuote] = useState<TranscriptItem | null>(null);
  const [showContact, setShowContact] = useState(false);
  const [bot, setBot] = useState<BotRun | null>(null);
  const now = useNow(30_000);
  const bottom = useRef<HTMLDivElement | null>(null);
  const lastInbound = useRef<string | null>(null);

  const load = useCallback(async () => {
    try {
      const [detail, page] = await Promise.all([
        api.get<unknown>(`/v1/conversations/${encodeURIComponent(id)}`),
        api.get<Page<unknown>>(`/v1/conversations/${encodeURIComponent(id)}/messages?limit=200`),
      ]);
      setConversation(normalizeConversation(detail));
      // The bot's latest run, where automation exists (older servers answer 404: no badge).
      api
        .get<{ items: BotRun[] }>(`/v1/conversations/${encodeURIComponent(id)}/automation-runs`)
        .then((runs) => setBot(runs.items[0] ?? null))
        .catch(() => setBot(null));
      const items = page.items.map(normalizeMessage);
      setMessages(items);
      setError(null);
      // Opening the conversation (or a new message arriving while it is open) marks it read.
      const newest = [...items]
        .reverse()
        .find((m) => m.direction === 'inbound' && m.kind === 'message');
      if (newest && newest.id !== lastInbound.current) {
        lastInbound.current = newest.id;
        api
          .post(`/v1/conversations/${encodeURIComponent(id)}/read`)
          .then(onChanged, () => undefined);
      }
    } catch (err) {
      setError(err instanceof Error ? err.message : 'The conversation could not be loaded.');
    }
  }, [id, onChanged]);

  useEffect(() => {
    void load();
  }, [load, revision]);

  // The window closes on the server's clock: re-check now and then and when the tab returns.
  useEffect(() => {
    const timer = setInterval(() => void load(), 30_000);
    const onFocus = () => void load();
    addEventListener('focus', onFocus);
    return () => {
      clearInterval(timer);
      removeEventListener('focus', onFocus);
    };
  }, [load]);

  useEffect(() => {
    bottom.current?.scrollIntoView?.({ block: 'end' });
  }, [messages.length]);

  const act = async (work: () => Promise<unknown>) => {
    try {
      await work();
      setError(null);
      await load();
      onChanged();
    } catch (err) {
      setError(err instanceof ApiError ? err.detail : 'That did not work. Try again.');
    }
  };
  const path = `/v1/conversations/${encodeURIComponent(id)}`;

  if (!conversation)
    return (
      <section className="conversation" aria-label="Conversation" aria-busy="true">
        {error ? <p className="error">{error}</p> : <p>Loading…</p>}
      </section>
    );

  const name = conversation.contact.name ?? conversation.contact.phone;
  const byId = new Map(messages.map((m) => [m.id, m]));

  return (
    <div className="conversation-area">
      <section className="conversation" aria-label={`Conversation with ${name}`}>
        <header className="conversation-header">
          <button type="button" className="back" onClick={onBack} aria-label="Back to the list">
            ‹
          </button>
          <div className="who">
            <h2>{name}</h2>
            <span className="sub">
              {conversation.contact.phone} ·{' '}
              <span
                className={`window-state ${conversation.window.open ? 'open' : 'closed'}`}
                data-testid="conversation-window"
              >
                window {windowLabel(conversation.window, now)}
              </span>
              {bot && (
                <>
                  {' · '}
                  <span className="bot-state" data-testid="bot-state">
                    {botLabel(bot)}
                  </span>
                </>
              )}
            </span>
          </div>
          <button
            type="button"
            className="secondary contact-toggle"
            aria-expanded={showContact}
            onClick={() => setShowContact((s) => !s)}
          >
            Contact
          </button>
        </header>
        <ConversationActions
          conversation={conversation}
          session={session}
          directory={directory}
          now={now}
          onAct={(method, suffix, body) =>
            act(() =>
              method === 'PUT'
                ? api.put(`${path}${suffix}`, body)
                : api.post(`${path}${suffix}`, body),
            )
          }
        />
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <ol
          className="transcript"
          aria-label="Messages"
          aria-live="polite"
          data-testid="transcript"
        >
          {messages.map((m) => (
            <MessageBubble
              key={m.id}
              message={
                m.kind === 'note' && !m.author && m.authorId
                  ? {
                      ...m,
                      author: directory.agents.find((a) => a.id === m.authorId)?.name ?? null,
                    }
                  : m
              }
              quoted={m.quotedId ? (byId.get(m.quotedId) ?? null) : null}
              onQuote={() => setQuote(m)}
            />
          ))}
          {conversation.parkedReplies.map((p) => (
            <li key={p.id} className="bubble outbound held" data-testid="parked-reply">
              <span className="note-label">Held until the customer answers</span>
              <p>{p.text}</p>
              <span className="meta">
                <button
                  type="button"
                  className="link danger"
                  onClick={() =>
                    void act(() => api.delete(`/v1/parked-replies/${encodeURIComponent(p.id)}`))
                  }
                >
                  Cancel
                </button>
              </span>
            </li>
          ))}
          <div ref={bottom} />
        </ol>
        <Composer
          conversation={conversation}
          quote={quote}
          onClearQuote={() => setQuote(null)}
          onSent={() => {
            setQuote(null);
            void load();
            onChanged();
          }}
        />
      </section>
      <ContactPanel
        contactId={conversation.contact.id}
        channelId={conversation.channelId}
        businessName={directory.channels.find((c) => c.id === conversation.channelId)?.name ?? ''}
        open={showContact}
        onClose={() => setShowContact(false)}
      />
    </div>
  );
}

function ConversationActions({
  conversation,
  session,
  directory,
  now,
  onAct,
}: {
  conversation: ConversationItem;
  session: Session;
  directory: Directory;
  now: number;
  onAct: (method: 'POST' | 'PUT', suffix: string, body?: unknown) => Promise<void>;
}) {
  const [labels, setLabels] = useState(conversation.labels.join(', '));
  useEffect(() => setLabels(conversation.labels.join(', ')), [conversation.labels]);
  const assigneeValue = conversation.assignee?.id ?? '';
  const departmentValue = conversation.department?.id ?? '';
  const agents = directory.agents.some((a) => a.id === session.agent.id)
    ? directory.agents
    : [{ id: session.agent.id, name: session.agent.name }, ...directory.agents];
  return (
    <div className="conversation-actions" role="toolbar" aria-label="Conversation actions">
      <label>
        Agent
        <select
          aria-label="Agent"
          value={assigneeValue}
          onChange={(e) => void onAct('POST', '/assign', { agentId: e.target.value || null })}
        >
          <option value="">Unassigned</option>
          {agents.map((a) => (
            <option key={a.id} value={a.id}>
              {a.id === session.agent.id ? `${a.name} (me)` : a.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Department
        <select
          aria-label="Department"
          value={departmentValue}
          onChange={(e) => void onAct('POST', '/assign', { departmentId: e.target.value || null })}
        >
          <option value="">No department</option>
          {directory.departments.map((d) => (
            <option key={d.id} value={d.id}>
              {d.name}
            </option>
          ))}
        </select>
      </label>
      <form
        className="labels-form"
        onSubmit={(e) => {
          e.preventDefault();
          const list = labels
            .split(',')
            .map((l) => l.trim())
            .filter(Boolean);
          void onAct('PUT', '/labels', { labels: [...new Set(list)] });
        }}
      >
        <label>
          Labels
          <input
            value={labels}
            placeholder="vip, refund"
            onChange={(e) => setLabels(e.target.value)}
          />
        </label>
        <button type="submit" className="secondary">
          Save
        </button>
      </form>
      {conversation.status !== 'closed' && (
        <label>
          Snooze
          <select
            aria-label="Snooze"
            value=""
            onChange={(e) => {
              const hours = Number(e.target.value);
              if (hours > 0) void onAct('POST', '/snooze', { until: now + hours * HOUR });
            }}
          >
            <option value="">
              {conversation.snoozedUntil ? `until ${dateTime(conversation.snoozedUntil)}` : '—'}
            </option>
            <option value="1">1 hour</option>
            <option value="4">4 hours</option>
            <option value="24">1 day</option>
            <option value="168">1 week</option>
          </select>
        </label>
      )}
      {conversation.status === 'closed' ? (
        <button type="button" className="secondary" onClick={() => void onAct('POST', '/reopen')}>
          Reopen
        </button>
      ) : (
        <button type="button" className="secondary" onClick={() => void onAct('POST', '/close')}>
          Close
        </button>
      )}
    </div>
  );
}

function MessageBubble({
  message: m,
  quoted,
  onQuote,
}: {
  message: TranscriptItem;
  quoted: TranscriptItem | null;
  onQuote: () => void;
}) {
  if (m.kind === 'note')
    return (
      <li className="bubble note" data-message-id={m.id}>
        <span className="note-label">Internal note{m.author ? ` · ${m.author}` : ''}</span>
        <p>{m.text}</p>
        <span className="meta">{time(m.at)}</span>
      </li>
    );
  const tick = ticks(m.status);
  const failed = m.status === 'failed' || m.status === 'refused';
  return (
    <li
      className={`bubble ${m.direction} ${failed ? 'failed' : ''}`}
      data-message-id={m.id}
      data-status={m.status}
    >
      {quoted && <blockquote className="quoted">{quoted.text.slice(0, 140)}</blockquote>}
      {m.media && <MediaPreview media={m.media} type={m.type} />}
      {m.extraMedia.map((extra) => (
        <MediaPreview key={extra.id || extra.url} media={extra} type={extra.mime ? '' : m.type} />
      ))}
      {m.type === 'template' && <span className="template-label">Template</span>}
      <p>{m.text}</p>
      {failed && (
        <p className="failure" role="note">
          {m.explanation ?? 'This message was not delivered.'}
          {m.reason ? <span className="reason-code"> ({m.reason})</span> : null}
        </p>
      )}
      <span className="meta">
        <time dateTime={new Date(m.at).toISOString()}>{time(m.at)}</time>
        {m.direction === 'outbound' && (
          <span
            className={tick.className}
            aria-label={tick.label}
            title={tick.label}
            data-testid="ticks"
          >
            {tick.symbol}
          </span>
        )}
        <button
          type="button"
          className="link quote-button"
          onClick={onQuote}
          aria-label="Reply to this message"
        >
          Reply
        </button>
      </span>
    </li>
  );
}

function MediaPreview({ media, type }: { media: TranscriptMedia; type: string }) {
  const mime = media.mime ?? '';
  if (type === 'image' || type === 'sticker' || mime.startsWith('image/'))
    return <img className="media" src={media.url} alt={media.caption ?? 'Image'} loading="lazy" />;
  if (type === 'video' || mime.startsWith('video/'))
    return <video className="media" src={media.url} controls preload="metadata" />;
  if (type === 'audio' || mime.startsWith('audio/'))
    return <audio src={media.url} controls preload="metadata" />;
  return (
    <a className="attachment" href={media.url} target="_blank" rel="noreferrer">
      Document: {media.filename ?? 'download'}
    </a>
  );
}
