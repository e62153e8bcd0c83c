// The inbox: filters and the conversation list, the open conversation, the contact panel.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  api,
  normalizeConversation,
  query,
  type ConversationItem,
  type Page,
  type Ref,
  type Session,
} from '../api.ts';
import { conversationIdOf, useLive, type LiveEvent } from '../live.ts';
import { navigate } from '../router.ts';
import { initials, money, time, windowLabel } from '../format.ts';
import { ConversationView } from './conversation-view.tsx';
import { notifyNewMessage, NotificationToggle } from './notifications.tsx';

export interface Directory {
  agents: Ref[];
  departments: Ref[];
  channels: Array<Ref & { phoneNumber: string }>;
}

type View = 'mine' | 'unassigned' | 'all';

interface Filters {
  view: View;
  department: string;
  channel: string;
  status: 'open' | 'snoozed' | 'closed' | '';
  q: string;
}

const FILTERS_KEY = 'parley.inbox.filters';

function savedFilters(): Filters {
  const fallback: Filters = { view: 'all', department: '', channel: '', status: 'open', q: '' };
  try {
    const raw = sessionStorage.getItem(FILTERS_KEY);
    return raw ? { ...fallback, ...(JSON.parse(raw) as Partial<Filters>) } : fallback;
  } catch {
    return fallback;
  }
}

/** Ticks every `ms` so relative times ("closes in 3 h 12 m") stay true without reloads. */
export function useNow(ms = 30_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

async function loadDirectory(): Promise<Directory> {
  const settle = async <T,>(p: Promise<{ items: T[] }>): Promise<T[]> => {
    try {
      return (await p).items;
    } catch {
      return [];
    }
  };
  const [agents, departments, channels] = await Promise.all([
    settle(api.get<{ items: Ref[] }>('/v1/agents')),
    settle(api.get<{ items: Ref[] }>('/v1/departments')),
    settle(api.get<{ items: Array<Ref & { phoneNumber: string }> }>('/v1/channels')),
  ]);
  return { agents, departments, channels };
}

export function InboxPage({
  session,
  conversationId,
}: {
  session: Session;
  conversationId: string | null;
}) {
  const [filters, setFilters] = useState<Filters>(savedFilters);
  const [search, setSearch] = useState(filters.q);
  const [items, setItems] = useState<ConversationItem[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [directory, setDirectory] = useState<Directory>({
    agents: [],
    departments: [],
    channels: [],
  });
  const [revision, setRevision] = useState(0);
  const now = useNow();
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    void loadDirectory().then(setDirectory);
  }, []);

  useEffect(() => {
    sessionStorage.setItem(FILTERS_KEY, JSON.stringify(filters));
  }, [filters]);

  // Search as the agent types, without a request per keystroke.
  useEffect(() => {
    const timer = setTimeout(
      () => setFilters((f) => (f.q === search ? f : { ...f, q: search })),
      250,
    );
    return () => clearTimeout(timer);
  }, [search]);

  const listQuery = useMemo(
    () =>
      query({
        assignee:
          filters.view === 'mine' ? 'me' : filters.view === 'unassigned' ? 'none' : undefined,
        department: filters.department,
        channel: filters.channel,
        status: filters.status,
        q: filters.q.trim(),
        limit: 50,
      }),
    [filters],
  );

  const load = useCallback(async () => {
    try {
      const page = await api.get<Page<unknown>>(`/v1/conversations${listQuery}`);
      setItems(page.items.map(normalizeConversation));
      setNextCursor(page.nextCursor);
      setError(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : 'The conversations could not be loaded.');
    } finally {
      setLoading(false);
    }
  }, [listQuery]);

  useEffect(() => {
    setLoading(true);
    void load();
    // A slow safety net for a dropped stream; live events do the real work.
    const timer = setInterval(() => void load(), 60_000);
    return () => clearInterval(timer);
  }, [load]);

  const loadMore = async () => {
    if (!nextCursor) return;
    const page = await api.get<Page<unknown>>(
      `/v1/conversations${listQuery}${listQuery ? '&' : '?'}cursor=${encodeURIComponent(nextCursor)}`,
    );
    setItems((current) => [...current, ...page.items.map(normalizeConversation)]);
    setNextCursor(page.nextCursor);
  };

  const onLive = (event: LiveEvent) => {
    // Bursts (a campaign's statuses) collapse into one refresh.
    if (refreshTimer.current) clearTimeout(refreshTimer.current);
    refreshTimer.current = setTimeout(() => void load(), 200);
    const id = conversationIdOf(event);
    if (id && id === conversationId) setRevision((r) => r + 1);
    if (event.type === 'message.received')
      void notifyNewMessage(event, session, items, conversationId);
  };
  useLive(onLive);

  const select = (id: string) => navigate(`/inbox/${encodeURIComponent(id)}`);
  const selected = items.find((c) => c.id === conversationId) ?? null;
  const setFilter = <K extends keyof Filters>(key: K, value: Filters[K]) =>
    setFilters((f) => ({ ...f, [key]: value }));

  return (
    <div className={`inbox ${conversationId ? 'has-selection' : ''}`}>
      <section className="inbox-list" aria-label="Conversations">
        <div className="list-controls">
          <div className="segmented" role="group" aria-label="Whose conversations">
            {(['mine', 'unassigned', 'all'] as const).map((v) => (
              <button
                key={v}
                type="button"
                aria-pressed={filters.view === v}
                onClick={() => setFilter('view', v)}
              >
                {v === 'mine' ? 'Mine' : v === 'unassigned' ? 'Unassigned' : 'All'}
              </button>
            ))}
          </div>
          <input
            type="search"
            placeholder="Search name, number or text"
            aria-label="Search conversations"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
          <div className="filter-row">
            <select
              aria-label="Filter by status"
              value={filters.status}
              onChange={(e) => setFilter('status', e.target.value as Filters['status'])}
            >
              <option value="open">Open</option>
              <option value="snoozed">Snoozed</option>
              <option value="closed">Closed</option>
              <option value="">Any status</option>
            </select>
            <select
              aria-label="Filter by department"
              value={filters.department}
              onChange={(e) => setFilter('department', e.target.value)}
            >
              <option value="">All departments</option>
              {directory.departments.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name}
                </option>
              ))}
            </select>
            <select
              aria-label="Filter by channel"
              value={filters.channel}
              onChange={(e) => setFilter('channel', e.target.value)}
            >
              <option value="">All channels</option>
              {directory.channels.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          </div>
          <NotificationToggle />
        </div>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <ul className="conversation-list" aria-busy={loading} data-testid="conversation-list">
          {!loading && items.length === 0 && <li className="empty">No conversations here.</li>}
          {items.map((c) => (
            <li key={c.id}>
              <ConversationRow
                conversation={c}
                selected={c.id === conversationId}
                now={now}
                channelName={directory.channels.find((ch) => ch.id === c.channelId)?.name}
                onSelect={() => select(c.id)}
              />
            </li>
          ))}
        </ul>
        {nextCursor && (
          <button type="button" className="load-more" onClick={() => void loadMore()}>
            Load more
          </button>
        )}
      </section>
      {conversationId ? (
        <ConversationView
          key={conversationId}
          id={conversationId}
          summary={selected}
          session={session}
          directory={directory}
          revision={revision}
          onChanged={() => void load()}
          onBack={() => navigate('/inbox')}
        />
      ) : (
        <section className="conversation-empty" aria-label="Conversation">
          <p>Select a conversation.</p>
        </section>
      )}
    </div>
  );
}

function ConversationRow({
  conversation: c,
  selected,
  now,
  channelName,
  onSelect,
}: {
  conversation: ConversationItem;
  selected: boolean;
  now: number;
  channelName: string | undefined;
  onSelect: () => void;
}) {
  const name = c.contact.name ?? c.contact.phone;
  const windowText = windowLabel(c.window, now);
  return (
    <button
      type="button"
      className={`conversation-row ${selected ? 'selected' : ''} ${c.unread > 0 ? 'unread' : ''}`}
      aria-current={selected ? 'true' : undefined}
      onClick={onSelect}
      data-conversation-id={c.id}
    >
      <span className="avatar" aria-hidden="true">
        {initials(c.contact.name, '#')}
      </span>
      <span className="row-main">
        <span className="row-top">
          <span className="row-name">{name}</span>
          <span className="row-time">{c.lastMessage ? time(c.lastMessage.at, now) : ''}</span>
        </span>
        <span className="row-preview">
          {c.lastMessage?.direction === 'outbound' ? 'You: ' : ''}
          {c.lastMessage?.text ?? ''}
        </span>
        <span className="row-meta">
          <span
            className={`window-state ${c.window.open ? 'open' : 'closed'}`}
            data-testid="window-state"
          >
            {windowText}
          </span>
          {c.cost && <span className="cost">{money(c.cost.amount, c.cost.currency)}</span>}
          {c.assignee && <span className="chip">{c.assignee.name}</span>}
          {c.department && <span className="chip">{c.department.name}</span>}
          {channelName && <span className="chip subtle">{channelName}</span>}
          {c.labels.map((l) => (
            <span key={l} className="chip label">
              {l}
            </span>
          ))}
          {c.status === 'snoozed' && <span className="chip">snoozed</span>}
        </span>
      </span>
      {c.unread > 0 && (
        <span className="badge" aria-label={`${c.unread} unread`}>
          {c.unread}
        </span>
      )}
    </button>
  );
}
