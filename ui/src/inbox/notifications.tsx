// Browser notifications for new customer messages in conversations assigned to me.
import { useState } from 'react';
import { api, normalizeConversation, type ConversationItem, type Session } from '../api.ts';
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

/** The agent is looking at this conversation right now: the transcript shows the message. */
const watching = (id: string, openId: string | null) =>
  id === openId && document.visibilityState === 'visible' && document.hasFocus();

/**
 * A customer message (`message.received`): notifies when its conversation is assigned to the
 * signed-in agent, unless they are looking at it. A conversation outside the list as filtered
 * (another view, a later page) is looked up, so "assigned to me" never depends on the filters.
 */
export async function notifyNewMessage(
  event: LiveEvent,
  session: Session,
  items: readonly ConversationItem[],
  openId: string | null,
): Promise<void> {
  if (event.type !== 'message.received') return;
  if (!supported() || Notification.permission !== 'granted') return;
  const id = conversationIdOf(event);
  if (!id || watching(id, openId)) return;
  let conversation = items.find((c) => c.id === id) ?? null;
  if (!conversation) {
    try {
      conversation = normalizeConversation(
        await api.get<unknown>(`/v1/conversations/${encodeURIComponent(id)}`),
      );
    } catch {
      return;
    }
  }
  if (conversation.assignee?.id !== session.agent.id) return;
  // The list may be a moment behind an assignment that just happened; the open view is not.
  if (watching(id, openId)) return;
  const text = typeof event.data.text === 'string' && event.data.text ? event.data.text : null;
  const profile = typeof event.data.profileName === 'string' ? event.data.profileName : null;
  const notification = new Notification(
    conversation.contact.name ?? profile ?? conversation.contact.phone ?? 'New message',
    { body: (text ?? 'New message').slice(0, 140), tag: `parley-${id}` },
  );
  notification.onclick = () => {
    window.focus();
    navigate(`/inbox/${encodeURIComponent(id)}`);
  };
}
