// Agents of a workspace and how they sign in: scrypt password hashes, sessions behind an HttpOnly
// cookie with a per-session CSRF token, a login limit kept in the store, invites and resets.
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { MINUTE, HOUR, DAY } from '../core/time.ts';
import type { Agent, AgentRole, AgentSession, Department } from '../ports/inbox-store.ts';
import type { Workspace } from '../ports/store.ts';
import type { AppDeps } from './deps.ts';

export const INBOX_ERROR_CODES = [
  'invalid_request',
  'not_found',
  'conflict',
  'forbidden',
  'invalid_credentials',
  'too_many_attempts',
  'invalid_token',
] as const;
export type InboxErrorCode = (typeof INBOX_ERROR_CODES)[number];

export class InboxError extends Error {
  constructor(
    readonly code: InboxErrorCode,
    message: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const SESSION_TTL = 7 * DAY;
export const INVITE_TTL = 3 * DAY;
export const RESET_TTL = HOUR;
/**
 * Failed logins allowed per (email, address) per window before the login answers 429, and per
 * email from any address (client addresses come from X-Forwarded-For and can be varied).
 */
export const LOGIN_LIMIT = { attempts: 5, perEmail: 20, windowMs: MINUTE } as const;
export const MIN_PASSWORD_LENGTH = 10;

// OWASP's scrypt floor (N=2^17 would take ~130 MB per hash; 2^15 with r=8 is the common default).
const SCRYPT = { N: 32_768, r: 8, p: 1, keylen: 32, maxmem: 64 * 1024 * 1024 } as const;

function scryptAsync(password: string, salt: Buffer, n: number, r: number, p: number) {
  return new Promise<Buffer>((resolve, reject) => {
    scrypt(password, salt, SCRYPT.keylen, { N: n, r, p, maxmem: SCRYPT.maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** `scrypt$N$r$p$salt$hash`: the parameters travel with the hash so they can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p);
  return [
    'scrypt',
    SCRYPT.N,
    SCRYPT.r,
    SCRYPT.p,
    salt.toString('base64url'),
    key.toString('base64url'),
  ].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scryptAsync(
    password,
    Buffer.from(salt, 'base64url'),
    Number(n),
    Number(r),
    Number(p),
  );
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Compared on unknown emails too, so a miss takes as long as a wrong password. */
let decoyHash: Promise<string> | undefined;

export const hashToken = (token: string): string =>
  createHash('sha256').update(token, 'utf8').digest('hex');
const newToken = (): string => randomBytes(32).toString('base64url');

export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface SignedIn {
  readonly agent: Agent;
  readonly workspace: Workspace;
  readonly session: AgentSession;
  /** The cookie value: shown to the browser once, stored only hashed. */
  readonly token: string;
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new InboxError(
      'invalid_request',
      `password must be at least ${MIN_PASSWORD_LENGTH} characters`,
    );
}

async function openSession(deps: AppDeps, agent: Agent): Promise<SignedIn> {
  const workspace = await deps.store.workspaces.get(agent.workspaceId);
  if (!workspace) throw new InboxError('invalid_credentials', 'The email or password is wrong');
  const token = newToken();
  const now = deps.clock.now();
  const session = await deps.store.inbox.sessions.create({
    tokenHash: hashToken(token),
    agentId: agent.id,
    workspaceId: agent.workspaceId,
    csrfToken: newToken(),
    createdAt: now,
    expiresAt: now + SESSION_TTL,
  });
  return { agent, workspace, session, token };
}

/**
 * Signs an agent in. Failures are counted per (email, client address) in the store, so the limit
 * holds across nodes; once over it, even the right password is refused until the window passes.
 */
export async function login(
  deps: AppDeps,
  input: { email: string; password: string; address: string },
): Promise<SignedIn> {
  const email = input.email.trim().toLowerCase();
  const key = `login:${email}:${input.address}`;
  const emailKey = `login:${email}`;
  const now = deps.clock.now();
  const since = now - LOGIN_LIMIT.windowMs;
  const failures = await deps.store.inbox.attempts.count(key, since);
  const anywhere = await deps.store.inbox.attempts.count(emailKey, since);
  if (failures >= LOGIN_LIMIT.attempts || anywhere >= LOGIN_LIMIT.perEmail)
    throw new InboxError('too_many_attempts', 'Too many failed logins; try again in a minute', {
      retryAfterSeconds: Math.ceil(LOGIN_LIMIT.windowMs / 1000),
    });
  const agent = await deps.store.inbox.agents.findByEmail(email);
  const stored = agent?.state === 'active' ? agent.passwordHash : null;
  decoyHash ??= hashPassword(newToken());
  const ok = await verifyPassword(input.password, stored ?? (await decoyHash));
  if (!agent || !stored || !ok) {
    await deps.store.inbox.attempts.record(key, now);
    await deps.store.inbox.attempts.record(emailKey, now);
    await deps.store.inbox.attempts.purge(now - DAY);
    throw new InboxError('invalid_credentials', 'The email or password is wrong');
  }
  return openSession(deps, agent);
}

export async function logout(deps: AppDeps, sessionId: string): Promise<void> {
  await deps.store.inbox.sessions.delete(sessionId);
}

/** The live session and active agent behind a cookie value, or null. */
export async function resolveSession(
  deps: AppDeps,
  token: string,
): Promise<{ session: AgentSession; agent: Agent } | null> {
  const session = await deps.store.inbox.sessions.findByHash(hashToken(token));
  if (!session) return null;
  if (session.expiresAt <= deps.clock.now()) {
    await deps.store.inbox.sessions.delete(session.id);
    return null;
  }
  const agent = await deps.store.inbox.agents.get(session.agentId);
  if (!agent || agent.state !== 'active' || agent.workspaceId !== session.workspaceId) return null;
  return { session, agent };
}

async function checkDepartments(deps: AppDeps, workspaceId: string, ids: readonly string[]) {
  for (const id of ids) {
    const d = await deps.store.inbox.departments.get(id);
    if (!d || d.workspaceId !== workspaceId)
      throw new InboxError(
        'invalid_request',
        `departmentIds: no department ${id} in this workspace`,
      );
  }
}

function inviteUrl(deps: AppDeps, token: string): string {
  return `${deps.publicUrl}/accept-invite?token=${token}`;
}

/** An admin invites someone: an agent in state `invited` and a single-use link to set a password. */
export async function inviteAgent(
  deps: AppDeps,
  input: {
    workspaceId: string;
    email: string;
    name: string;
    role: AgentRole;
    departmentIds: readonly string[];
  },
): Promise<{ agent: Agent; inviteToken: string; inviteUrl: string }> {
  await checkDepartments(deps, input.workspaceId, input.departmentIds);
  if (await deps.store.inbox.agents.findByEmail(input.email))
    throw new InboxError('conflict', `An agent with email ${input.email} exists already`);
  const now = deps.clock.now();
  const agent = await deps.store.inbox.agents.create({
    workspaceId: input.workspaceId,
    email: input.email,
    name: input.name,
    role: input.role,
    state: 'invited',
    passwordHash: null,
    departmentIds: [...input.departmentIds],
    at: now,
  });
  const token = newToken();
  await deps.store.inbox.tokens.create({
    tokenHash: hashToken(token),
    kind: 'invite',
    agentId: agent.id,
    workspaceId: agent.workspaceId,
    createdAt: now,
    expiresAt: now + INVITE_TTL,
  });
  return { agent, inviteToken: token, inviteUrl: inviteUrl(deps, token) };
}

async function spendToken(deps: AppDeps, token: string, kind: 'invite' | 'reset') {
  const record = await deps.store.inbox.tokens.findByHash(hashToken(token));
  const now = deps.clock.now();
  if (!record || record.kind !== kind || record.usedAt !== null || record.expiresAt <= now)
    throw new InboxError('invalid_token', `The ${kind} link is unknown, used or expired`);
  const agent = await deps.store.inbox.agents.get(record.agentId);
  if (!agent || agent.state === 'disabled')
    throw new InboxError('invalid_token', `The ${kind} link is unknown, used or expired`);
  if (!(await deps.store.inbox.tokens.use(record.tokenHash, now)))
    throw new InboxError('invalid_token', `The ${kind} link is unknown, used or expired`);
  return agent;
}

/** Accepting an invite sets the name and password, activates the agent and signs them in. */
export async function acceptInvite(
  deps: AppDeps,
  input: { token: string; name?: string; password: string },
): Promise<SignedIn> {
  checkPassword(input.password);
  const invited = await spendToken(deps, input.token, 'invite');
  const agent = await deps.store.inbox.agents.update(
    invited.id,
    {
      state: 'active',
      passwordHash: await hashPassword(input.password),
      ...(input.name ? { name: input.name } : {}),
    },
    deps.clock.now(),
  );
  if (!agent) throw new InboxError('invalid_token', 'The invite link is unknown, used or expired');
  return openSession(deps, agent);
}

/**
 * A reset link for an active agent (null for an unknown email: the caller answers the same way
 * either way, so the endpoint does not reveal who has an account).
 */
export async function requestPasswordReset(
  deps: AppDeps,
  email: string,
): Promise<{ agent: Agent; resetToken: string; resetUrl: string } | null> {
  const agent = await deps.store.inbox.agents.findByEmail(email.trim());
  if (!agent || agent.state !== 'active') return null;
  const token = newToken();
  const now = deps.clock.now();
  await deps.store.inbox.tokens.create({
    tokenHash: hashToken(token),
    kind: 'reset',
    agentId: agent.id,
    workspaceId: agent.workspaceId,
    createdAt: now,
    expiresAt: now + RESET_TTL,
  });
  return { agent, resetToken: token, resetUrl: `${deps.publicUrl}/reset-password?token=${token}` };
}

/** A new password ends every session the agent had. */
export async function confirmPasswordReset(
  deps: AppDeps,
  input: { token: string; password: string },
): Promise<void> {
  checkPassword(input.password);
  const agent = await spendToken(deps, input.token, 'reset');
  await deps.store.inbox.agents.update(
    agent.id,
    { passwordHash: await hashPassword(input.password) },
    deps.clock.now(),
  );
  await deps.store.inbox.sessions.deleteForAgent(agent.id);
}

export async function getAgent(deps: AppDeps, workspaceId: string, id: string): Promise<Agent> {
  const agent = await deps.store.inbox.agents.get(id);
  if (!agent || agent.workspaceId !== workspaceId)
    throw new InboxError('not_found', `No agent ${id} in this workspace`);
  return agent;
}

export async function updateAgent(
  deps: AppDeps,
  workspaceId: string,
  id: string,
  patch: { name?: string; role?: AgentRole; departmentIds?: string[]; disabled?: boolean },
): Promise<Agent> {
  const agent = await getAgent(deps, workspaceId, id);
  if (patch.departmentIds) await checkDepartments(deps, workspaceId, patch.departmentIds);
  const demoting = patch.role === 'agent' || patch.disabled === true;
  if (demoting && agent.role === 'admin') await keepAnAdmin(deps, workspaceId, id);
  const state =
    patch.disabled === undefined
      ? undefined
      : patch.disabled
        ? 'disabled'
        : agent.passwordHash
          ? 'active'
          : 'invited';
  const updated = await deps.store.inbox.agents.update(
    id,
    {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.role !== undefined ? { role: patch.role } : {}),
      ...(patch.departmentIds !== undefined ? { departmentIds: patch.departmentIds } : {}),
      ...(state !== undefined ? { state } : {}),
    },
    deps.clock.now(),
  );
  if (state === 'disabled') await deps.store.inbox.sessions.deleteForAgent(id);
  if (!updated) throw new InboxError('not_found', `No agent ${id} in this workspace`);
  return updated;
}

/** A workspace never loses its last active admin (nobody could manage agents again). */
async function keepAnAdmin(deps: AppDeps, workspaceId: string, leaving: string): Promise<void> {
  const admins = (await deps.store.inbox.agents.list(workspaceId)).filter(
    (a) => a.role === 'admin' && a.state === 'active' && a.id !== leaving,
  );
  if (admins.length === 0)
    throw new InboxError('conflict', 'This is the last active admin of the workspace');
}

export async function deleteAgent(deps: AppDeps, workspaceId: string, id: string): Promise<void> {
  const agent = await getAgent(deps, workspaceId, id);
  if (agent.role === 'admin') await keepAnAdmin(deps, workspaceId, id);
  await deps.store.inbox.sessions.deleteForAgent(id);
  await deps.store.inbox.agents.delete(id);
}

/** Creates the agent with this email (active, with this password) unless it exists. */
export async function ensureAgent(
  deps: AppDeps,
  input: { workspaceId: string; email: string; name: string; role: AgentRole; password: string },
): Promise<Agent> {
  const existing = await deps.store.inbox.agents.findByEmail(input.email);
  if (existing) return existing;
  return deps.store.inbox.agents.create({
    workspaceId: input.workspaceId,
    email: input.email,
    name: input.name,
    role: input.role,
    state: 'active',
    passwordHash: await hashPassword(input.password),
    departmentIds: [],
    at: deps.clock.now(),
  });
}

export async function getDepartment(
  deps: AppDeps,
  workspaceId: string,
  id: string,
): Promise<Department> {
  const d = await deps.store.inbox.departments.get(id);
  if (!d || d.workspaceId !== workspaceId)
    throw new InboxError('not_found', `No department ${id} in this workspace`);
  return d;
}

export async function createDepartment(
  deps: AppDeps,
  workspaceId: string,
  name: string,
): Promise<Department> {
  const taken = (await deps.store.inbox.departments.list(workspaceId)).some((d) => d.name === name);
  if (taken) throw new InboxError('conflict', `A department named ${name} exists already`);
  return deps.store.inbox.departments.create({ workspaceId, name, at: deps.clock.now() });
}

export async function renameDepartment(
  deps: AppDeps,
  workspaceId: string,
  id: string,
  name: string,
): Promise<Department> {
  await getDepartment(deps, workspaceId, id);
  const taken = (await deps.store.inbox.departments.list(workspaceId)).some(
    (d) => d.name === name && d.id !== id,
  );
  if (taken) throw new InboxError('conflict', `A department named ${name} exists already`);
  const d = await deps.store.inbox.departments.rename(id, name);
  if (!d) throw new InboxError('not_found', `No department ${id} in this workspace`);
  return d;
}

/** Deleting a department takes it off its agents and conversations. */
export async function deleteDepartment(
  deps: AppDeps,
  workspaceId: string,
  id: string,
): Promise<void> {
  await getDepartment(deps, workspaceId, id);
  await deps.store.transaction(async (tx) => {
    for (const agent of await tx.inbox.agents.list(workspaceId))
      if (agent.departmentIds.includes(id))
        await tx.inbox.agents.update(
          agent.id,
          { departmentIds: agent.departmentIds.filter((d) => d !== id) },
          deps.clock.now(),
        );
    await tx.inbox.departments.delete(id);
  });
}
