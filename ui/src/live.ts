// Live updates: one EventSource on /v1/stream for the whole app, fanned out to the screens.
import { useEffect, useRef } from 'react';

export interface LiveEvent {
  type: string;
  data: Record<string, unknown>;
}

type Listener = (event: LiveEvent) => void;

const listeners = new Set<Listener>();
let source: EventSource | null = null;
let connected = false;
const statusListeners = new Set<(connected: boolean) => void>();

/** Event types the stream carries (the EventBus's) that the inbox reacts to; others are ignored. */
const TYPES = [
  'message.received',
  'message.status',
  'message.failed',
  'conversation.created',
  'conversation.assigned',
  'conversation.closed',
  'conversation.updated',
  'window.closing',
  'window.closed',
  'consent.changed',
  'template.status',
  'campaign.progress',
];

function setConnected(value: boolean): void {
  connected = value;
  for (const l of statusListeners) l(value);
}

/** Opens the stream once (EventSource reconnects by itself after a drop). */
export function startLive(): void {
  if (source || typeof EventSource === 'undefined') return;
  source = new EventSource('/v1/stream', { withCredentials: true });
  source.onopen = () => setConnected(true);
  source.onerror = () => setConnected(false);
  const dispatch = (type: string) => (e: MessageEvent<string>) => {
    let data: Record<string, unknown> = {};
    try {
      data = JSON.parse(e.data) as Record<string, unknown>;
    } catch {
      /* a heartbeat or a non-JSON line */
    }
    // The SSE event name is the event's type; `data.type` is a field of its own (a message's
    // type is "text"), so it names the event only on unnamed lines.
    const event = {
      type: type === 'message' && typeof data.type === 'string' ? data.type : type,
      data,
    };
    for (const l of listeners) l(event);
  };
  for (const type of TYPES) source.addEventListener(type, dispatch(type));
  source.onmessage = dispatch('message');
}

export function stopLive(): void {
  source?.close();
  source = null;
  setConnected(false);
}

export function isLive(): boolean {
  return connected;
}

export function onLiveStatus(listener: (connected: boolean) => void): () => void {
  statusListeners.add(listener);
  return () => statusListeners.delete(listener);
}

/** Calls `handler` for each live event while the component is mounted (latest handler wins). */
export function useLive(handler: Listener): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    const l: Listener = (e) => ref.current(e);
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
}

/** The conversation an event is about, whatever its shape. */
export function conversationIdOf(event: LiveEvent): string | null {
  const d = event.data;
  const nested = (d.message ?? d.conversation ?? d.payload) as Record<string, unknown> | undefined;
  const id =
    d.conversationId ??
    nested?.conversationId ??
    (event.type.startsWith('conversation.') ? (d.id ?? nested?.id) : undefined);
  return typeof id === 'string' ? id : null;
}
