// Agent sign-in through the real HTTP stack: passwords, the session cookie, CSRF, the login
// limit, invites and resets, roles, and the API key still working beside the cookie.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import {
  agentClient,
  createAgent,
  request,
  sessionCookieOf,
  signIn,
} from './helpers/agent-session.ts';

describe('agent sessions', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
  });
  after(async () => t.close());

  it('logs in with email and password: an HttpOnly SameSite=Lax cookie and a CSRF token', async () => {
    const { email, password, agent } = await createAgent(t, { role: 'admin' });
    const login = await request(t, 'POST', '/v1/auth/login', {
      email: email.toUpperCase(),
      password,
    });
    assert.equal(login.status, 200, JSON.stringify(login.json));
    assert.equal(login.json.agent.id, agent.id);
    assert.equal(login.json.agent.role, 'admin');
    assert.equal(login.json.workspace.id, t.channel.workspaceId);
    assert.match(login.json.csrfToken, /^[\w-]{32,}$/);
    const setCookie = String(login.headers['set-cookie']);
    assert.match(setCookie, /HttpOnly/i);
    assert.match(setCookie, /SameSite=Lax/i);
    assert.match(setCookie, /Path=\//);
    // http:// public URL in tests: no Secure flag, or the browser would drop the cookie.
    assert.doesNotMatch(setCookie, /Secure/i);
    assert.equal(JSON.stringify(login.json).includes('passwordHash'), false);

    const cookie = sessionCookieOf(login.headers['set-cookie']);
    const session = await request(t, 'GET', '/v1/auth/session', undefined, { cookie });
    assert.equal(session.status, 200);
    assert.equal(session.json.agent.email, email);
    assert.deepEqual(session.json.agent.departmentIds, []);
    assert.equal(session.json.csrfToken, login.json.csrfToken);
    // Every /v1 route accepts the cookie, not only the inbox's.
    const channels = await request(t, 'GET', '/v1/channels', undefined, { cookie });
    assert.equal(channels.status, 200);
    assert.equal(channels.json.items[0].id, t.channel.id);
  });

  it('answers a wrong password and an unknown email alike with 401 invalid_credentials', async () => {
    const { email } = await createAgent(t);
    const wrong = await request(t, 'POST', '/v1/auth/login', {
      email,
      password: 'not the password',
    });
    const unknown = await request(t, 'POST', '/v1/auth/login', {
      email: 'nobody@example.test',
      password: 'whatever it is',
    });
    for (const r of [wrong, unknown]) {
      assert.equal(r.status, 401);
      assert.equal(r.json.code, 'invalid_credentials');
      assert.equal(r.headers['set-cookie'], undefined);
    }
    assert.equal(wrong.json.detail, unknown.json.detail);
  });

  it('stores passwords as salted scrypt hashes, never the password', async () => {
    const a = await createAgent(t, { password: 'same password here' });
    const b = await createAgent(t, { password: 'same password here' });
    assert.match(a.agent.passwordHash ?? '', /^scrypt\$\d+\$8\$1\$[\w-]+\$[\w-]+$/);
    assert.notEqual(a.agent.passwordHash, b.agent.passwordHash);
    assert.equal(a.agent.passwordHash?.includes('same password'), false);
  });

  it('rate-limits failed logins per email and address: the sixth try within a minute is 429, even with the right password', async () => {
    const { email, password } = await createAgent(t);
    for (let i = 0; i < 5; i++) {
      const r = await request(t, 'POST', '/v1/auth/login', { email, password: `wrong ${i} guess` });
      assert.equal(r.status, 401);
    }
    const blocked = await request(t, 'POST', '/v1/auth/login', { email, password });
    assert.equal(blocked.status, 429);
    assert.equal(blocked.json.code, 'too_many_attempts');
    assert.equal(blocked.headers['retry-after'], '60');
    await t.clock.advance(61_000);
    const again = await request(t, 'POST', '/v1/auth/login', { email, password });
    assert.equal(again.status, 200);
  });

  it('limits failed logins per email from any address too (addresses can be forged)', async () => {
    const { email, password } = await createAgent(t);
    for (let i = 0; i < 20; i++) {
      const r = await request(
        t,
        'POST',
        '/v1/auth/login',
        { email, password: `wrong ${i} guess` },
        { 'x-forwarded-for': `203.0.113.${i}` },
      );
      assert.equal(r.status, 401, `attempt ${i}`);
    }
    const blocked = await request(
      t,
      'POST',
      '/v1/auth/login',
      { email, password },
      { 'x-forwarded-for': '198.51.100.7' },
    );
    assert.equal(blocked.status, 429);
  });

  it('sets the Secure flag on the cookie when Parley is reached over https', async () => {
    const https = await startTestParley({
      env: { PARLEY_PUBLIC_URL: 'https://inbox.example.com' },
    });
    try {
      const { email, password } = await createAgent(https);
      const login = await request(https, 'POST', '/v1/auth/login', { email, password });
      assert.match(String(login.headers['set-cookie']), /; Secure/);
    } finally {
      await https.close();
    }
  });

  it('refuses a cookie request that changes something without the CSRF token (403 csrf_failed), and with a wrong one', async () => {
    const agent = await agentClient(t);
    const missing = await agent.call(
      'POST',
      '/v1/canned-responses',
      { shortcut: 'hi', text: 'Hello!' },
      { csrf: false },
    );
    assert.equal(missing.status, 403);
    assert.equal(missing.json.code, 'csrf_failed');
    const wrong = await agent.call(
      'POST',
      '/v1/canned-responses',
      { shortcut: 'hi', text: 'Hello!' },
      { csrf: false, headers: { 'x-csrf-token': 'x'.repeat(43) } },
    );
    assert.equal(wrong.status, 403);
    const list = await agent.call('GET', '/v1/canned-responses', undefined, { csrf: false });
    assert.deepEqual(list.json.items, [], 'nothing was written');
    const ok = await agent.call('POST', '/v1/canned-responses', { shortcut: 'hi', text: 'Hello!' });
    assert.equal(ok.status, 201);
  });

  it('logout ends the session', async () => {
    const agent = await agentClient(t);
    const out = await agent.call('POST', '/v1/auth/logout');
    assert.equal(out.status, 204);
    const after = await agent.call('GET', '/v1/auth/session');
    assert.equal(after.status, 401);
    assert.equal(after.json.code, 'unauthenticated');
  });

  it('a session expires after seven days', async () => {
    const agent = await agentClient(t);
    await t.clock.advance(7 * 24 * 3_600_000 + 1);
    const r = await agent.call('GET', '/v1/conversations');
    assert.equal(r.status, 401);
  });

  it('without a key or a cookie /v1 answers 401', async () => {
    const r = await request(t, 'GET', '/v1/conversations');
    assert.equal(r.status, 401);
    assert.equal(r.json.code, 'unauthenticated');
  });

  it('an agent cannot manage agents, departments, connections or API keys; an admin can', async () => {
    const agent = await agentClient(t);
    const admin = await agentClient(t, { role: 'admin' });
    const attempts: Array<
      [method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown]
    > = [
      ['POST', '/v1/agents/invites', { email: 'x@example.test', name: 'X' }],
      ['PATCH', `/v1/agents/${agent.agentId}`, { role: 'admin' }],
      ['DELETE', `/v1/agents/${admin.agentId}`],
      ['POST', '/v1/departments', { name: 'Sales' }],
      ['POST', '/v1/connections', { provider: 'sandbox', name: 'Another' }],
      ['GET', '/v1/api-keys'],
      ['POST', '/v1/api-keys', { name: 'mine' }],
    ];
    for (const [method, url, body] of attempts) {
      const r = await agent.call(method, url, body);
      assert.equal(r.status, 403, `${method} ${url}`);
      assert.equal(r.json.code, 'forbidden');
    }
    assert.equal((await agent.call('GET', '/v1/agents')).status, 200, 'agents may list agents');
    const created = await admin.call('POST', '/v1/departments', { name: 'Sales' });
    assert.equal(created.status, 201);
    assert.equal((await admin.call('GET', '/v1/api-keys')).status, 200);
  });

  it('invites an agent, who sets a password with the single-use link and is signed in', async () => {
    const admin = await agentClient(t, { role: 'admin' });
    const dept = await admin.call('POST', '/v1/departments', { name: 'Billing' });
    const invite = await admin.call('POST', '/v1/agents/invites', {
      email: 'grace@example.test',
      name: 'Grace',
      role: 'agent',
      departmentIds: [dept.json.id],
    });
    assert.equal(invite.status, 201, JSON.stringify(invite.json));
    assert.equal(invite.json.agent.state, 'invited');
    assert.match(invite.json.inviteUrl, /accept-invite\?token=/);
    const early = await request(t, 'POST', '/v1/auth/login', {
      email: 'grace@example.test',
      password: 'anything at all',
    });
    assert.equal(early.status, 401, 'an invited agent has no password yet');
    const short = await request(t, 'POST', '/v1/auth/accept-invite', {
      token: invite.json.inviteToken,
      password: 'short',
    });
    assert.equal(short.status, 400);
    const accepted = await request(t, 'POST', '/v1/auth/accept-invite', {
      token: invite.json.inviteToken,
      name: 'Grace Hopper',
      password: 'a long enough password',
    });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.json));
    assert.equal(accepted.json.agent.name, 'Grace Hopper');
    assert.deepEqual(accepted.json.agent.departmentIds, [dept.json.id]);
    assert.ok(sessionCookieOf(accepted.headers['set-cookie']));
    const reused = await request(t, 'POST', '/v1/auth/accept-invite', {
      token: invite.json.inviteToken,
      password: 'another long password',
    });
    assert.equal(reused.status, 400);
    assert.equal(reused.json.code, 'invalid_token');
    const grace = await signIn(t, 'grace@example.test', 'a long enough password');
    assert.equal((await grace.call('GET', '/v1/auth/session')).json.agent.role, 'agent');
  });

  it('resets a password: 202 for anyone (no account enumeration), the token ends old sessions', async () => {
    const { email, password } = await createAgent(t);
    const before = await signIn(t, email, password);
    const anonymous = await request(t, 'POST', '/v1/auth/password-reset', { email });
    assert.equal(anonymous.status, 202);
    assert.deepEqual(anonymous.json, { accepted: true });
    const unknown = await request(t, 'POST', '/v1/auth/password-reset', {
      email: 'no@example.test',
    });
    assert.equal(unknown.status, 202);
    assert.deepEqual(unknown.json, { accepted: true });
    // The workspace's API key (an admin) gets the link to hand over.
    const byKey = await t.api('POST', '/v1/auth/password-reset', { email });
    assert.equal(byKey.status, 202);
    assert.match(byKey.json.resetUrl, /reset-password\?token=/);
    const confirm = await request(t, 'POST', '/v1/auth/password-reset/confirm', {
      token: byKey.json.resetToken,
      password: 'a brand new password',
    });
    assert.equal(confirm.status, 204);
    assert.equal((await before.call('GET', '/v1/auth/session')).status, 401);
    assert.equal((await request(t, 'POST', '/v1/auth/login', { email, password })).status, 401);
    await signIn(t, email, 'a brand new password');
    await t.clock.advance(2 * 3_600_000);
    const late = await t.api('POST', '/v1/auth/password-reset', { email });
    await t.clock.advance(3_600_001);
    const expired = await request(t, 'POST', '/v1/auth/password-reset/confirm', {
      token: late.json.resetToken,
      password: 'yet another password',
    });
    assert.equal(expired.status, 400);
    assert.equal(expired.json.code, 'invalid_token');
  });

  it('answers malformed, unknown-field and oversized input on the auth routes with precise problems, never a 500', async () => {
    const malformed = await t.parley.http.inject({
      method: 'POST',
      url: '/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"email": ',
    });
    assert.equal(malformed.statusCode, 400);
    assert.equal((JSON.parse(malformed.body) as { code: string }).code, 'malformed_json');
    const extra = await request(t, 'POST', '/v1/auth/login', {
      email: 'a@example.test',
      password: 'x',
      admin: true,
    });
    assert.equal(extra.status, 400);
    assert.equal(extra.json.code, 'validation_failed');
    const huge = await request(t, 'POST', '/v1/auth/login', {
      email: 'a@example.test',
      password: 'x'.repeat(2000),
    });
    assert.equal(huge.status, 400);
    const badInvite = await request(t, 'POST', '/v1/auth/accept-invite', {
      token: 'not-a-token',
      password: 'a long enough password',
    });
    assert.equal(badInvite.status, 400);
    assert.equal(badInvite.json.code, 'invalid_token');
  });

  it('the API key keeps working on every route, without CSRF', async () => {
    const r = await t.api('POST', '/v1/departments', { name: 'Support' });
    assert.equal(r.status, 201);
    assert.equal(
      (await t.api('GET', '/v1/departments')).json.items.some(
        (d: { name: string }) => d.name === 'Support',
      ),
      true,
    );
  });
});
