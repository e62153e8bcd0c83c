// Browser notifications for new customer messages in conversations assigned to me.
import { useState } from 'react';
import type { ConversationItem, Session } from '../api.ts';
import { conversationIdOf, type LiveEvent } from '../live.ts';
import { navigate } from '../router.ts';

const supported = () => typeof Notification !== 'undefined';

export function NotificationToggle() {
  const [permission, setPermission] = useState(supported() ? Notification.permission : 'denied');
  if (!supported() || permission === 'granted') return null;
  if (permission === 'denied')
    return <p className="hint">Notifications are blocked in this browser.</p>;
  return (
    <button
      type="button"
      className="link"
      onClick={() => void Notification.requestPermission().then(setPermission)}
    >
      Notify me of new messages assigned to me
    </button>
  );
}

export function notifyNewMessage(
  event: LiveEvent,
  session: Session,
  items: readonly ConversationItem[],
  openId: string | null,
): void {
  if (!supported() || Notification.permission !== 'granted') return;
  const id = conversationIdOf(event);
  if (!id) return;
  const conversation = items.find((c) => c.id === id);
  const assigneeId =
    conversation?.assignee?.id ??
    (typeof event.data.assigneeId === 'string' ? event.data.assigneeId : null);
  if (assigneeId !== session.agent.id) return;
  if (id === openId && !document.hidden) return;
  const message = (event.data.message ?? event.data) as Record<string, unknown>;
  const text = typeof message.text === 'string' ? message.text : 'New message';
  const notification = new Notification(conversation?.contact.name ?? 'New message', {
    body: text.slice(0, 140),
    tag: `parley-${id}`,
  });
  notification.onclick = () => {
    window.focus();
    navigate(`/inbox/${encodeURIComponent(id)}`);
  };
}
