// Live updates: GET /v1/stream delivers the workspace's domain events as Server-Sent Events to a
// signed-in agent (cookie) or an API key, and never another workspace's.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import { agentClient } from './helpers/agent-session.ts';

/** Reads an SSE response until `until` matches the text so far (or fails after 5 s). */
async function readUntil(response: Response, until: RegExp): Promise<string> {
  const reader = response.body?.getReader();
  assert.ok(reader);
  const decoder = new TextDecoder();
  let text = '';
  const deadline = setTimeout(() => void reader.cancel(), 5_000);
  try {
    while (!until.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(deadline);
    await reader.cancel().catch(() => undefined);
  }
  return text;
}

describe('the live stream', () => {
  let t: TestParley;
  let base: string;
  before(async () => {
    t = await startTestParley();
    base = await t.parley.http.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => t.close());

  it('an agent session receives message.received as an SSE event; another workspace receives none of it', async () => {
    const agent = await agentClient(t);
    const other = await t.parley.deps.store.workspaces.create({ name: 'Elsewhere' });
    const stranger = await agentClient(t, { workspaceId: other.id });
    const mine = await fetch(`${base}/v1/stream`, { headers: { cookie: agent.cookie } });
    const theirs = await fetch(`${base}/v1/stream`, { headers: { cookie: stranger.cookie } });
    assert.equal(mine.status, 200);
    assert.match(mine.headers.get('content-type') ?? '', /^text\/event-stream/);
    await t.world.userWrites(t.channel.providerKey, {
      from: '447700900041',
      name: 'Ada',
      text: 'Live, please',
    });
    await t.settle();
    const text = await readUntil(mine, /event: message\.received\ndata: .*\n\n/);
    const frame = /event: message\.received\ndata: (.*)\n\n/.exec(text);
    assert.ok(frame?.[1], text);
    const data = JSON.parse(frame[1]) as Record<string, unknown>;
    assert.equal(data.text, 'Live, please');
    assert.equal(data.from, '447700900041');
    assert.equal(typeof data.conversationId, 'string');
    // A marker event in the other workspace: everything before it would have been A's leak.
    t.parley.deps.events.publish({
      type: 'conversation.updated',
      workspaceId: other.id,
      at: t.clock.now(),
      data: { conversationId: 'marker' },
    });
    const leaked = await readUntil(theirs, /"conversationId":"marker"/);
    assert.match(leaked, /marker/);
    assert.doesNotMatch(leaked, /message\.received|Live, please/);
  });

  it('accepts the API key too, and refuses a request with neither', async () => {
    const anonymous = await fetch(`${base}/v1/stream`);
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();
    const keyed = await fetch(`${base}/v1/stream`, {
      headers: { authorization: `Bearer ${t.apiKey}` },
    });
    assert.equal(keyed.status, 200);
    const agent = await agentClient(t);
    await agent.call('POST', '/v1/canned-responses', { shortcut: 'x', text: 'y' });
    const conversation = (await t.api('GET', '/v1/conversations')).json.items[0];
    await agent.call('POST', `/v1/conversations/${String(conversation.id)}/close`);
    const text = await readUntil(keyed, /event: conversation\.closed/);
    assert.match(text, /event: conversation\.closed\ndata: \{"conversationId":"[^"]+"/);
  });
});
