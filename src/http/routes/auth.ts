// Agent sign-in and administration: login/logout/session, invites, password reset, agents and
// departments. Sessions ride an HttpOnly SameSite cookie; the CSRF token comes back in the body.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  SESSION_TTL,
  acceptInvite,
  confirmPasswordReset,
  createDepartment,
  deleteAgent,
  deleteDepartment,
  getAgent,
  getDepartment,
  inviteAgent,
  login,
  logout,
  renameDepartment,
  requestPasswordReset,
  updateAgent,
  type SignedIn,
} from '../../app/agents.ts';
import type { Agent, Department } from '../../ports/inbox-store.ts';
import { AGENT_ROLES } from '../../ports/inbox-store.ts';
import type { Workspace } from '../../ports/store.ts';
import { ApiProblem } from '../problem.ts';
import { idParams } from '../schemas.ts';
import type { HttpOptions } from '../server.ts';
import { iso } from '../views.ts';
import { inboxGuard } from './inbox-guard.ts';

export const SESSION_COOKIE = 'parley_session';

/** Routes that answer without a session or key (they are how one gets a session). */
export const PUBLIC_AUTH_PATHS: ReadonlySet<string> = new Set([
  '/v1/auth/login',
  '/v1/auth/accept-invite',
  '/v1/auth/password-reset',
  '/v1/auth/password-reset/confirm',
]);

const email = z.email().max(320);
const name = z.string().trim().min(1).max(200);
const password = z.string().min(1).max(1024);
const departmentIds = z.array(z.string().min(1).max(100)).max(100);

export function agentView(a: Agent) {
  return {
    id: a.id,
    name: a.name,
    email: a.email,
    role: a.role,
    state: a.state,
    departmentIds: a.departmentIds,
    createdAt: iso(a.createdAt),
  };
}

export function departmentView(d: Department) {
  return { id: d.id, name: d.name, createdAt: iso(d.createdAt) };
}

const workspaceView = (w: Workspace) => ({ id: w.id, name: w.name });

function sessionCookie(reply: FastifyReply, options: HttpOptions, token: string, maxAgeMs: number) {
  reply.setCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: options.deps.publicUrl.startsWith('https:'),
    maxAge: Math.floor(maxAgeMs / 1000),
  });
}

function signedIn(reply: FastifyReply, options: HttpOptions, s: SignedIn) {
  sessionCookie(reply, options, s.token, SESSION_TTL);
  return {
    agent: agentView(s.agent),
    workspace: workspaceView(s.workspace),
    csrfToken: s.session.csrfToken,
  };
}

export function registerAuthRoutes(app: FastifyInstance, options: HttpOptions): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const deps = options.deps;

  api.post(
    '/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Agent login: sets the session cookie and returns the CSRF token',
        security: [],
        body: z.object({ email: z.string().min(1).max(320), password }).strict(),
      },
    },
    async (request, reply) =>
      inboxGuard(async () =>
        signedIn(reply, options, await login(deps, { ...request.body, address: request.ip })),
      ),
  );

  api.post('/auth/logout', { schema: { tags: ['auth'] } }, async (request, reply) => {
    if (request.agentSession) await logout(deps, request.agentSession.id);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.status(204).send();
  });

  api.get(
    '/auth/session',
    { schema: { tags: ['auth'], summary: 'The signed-in agent, workspace and CSRF token' } },
    async (request) => {
      if (!request.agent || !request.agentSession)
        throw new ApiProblem('unauthenticated', 'No agent session (this is an API key request)');
      const workspace = await deps.store.workspaces.get(request.workspaceId);
      return {
        agent: agentView(request.agent),
        workspace: workspace ? workspaceView(workspace) : { id: request.workspaceId, name: '' },
        csrfToken: request.agentSession.csrfToken,
      };
    },
  );

  api.post(
    '/auth/accept-invite',
    {
      schema: {
        tags: ['auth'],
        summary: 'Set a password from an invite link (signs in)',
        security: [],
        body: z
          .object({ token: z.string().min(1).max(200), name: name.optional(), password })
          .strict(),
      },
    },
    async (request, reply) =>
      inboxGuard(async () => signedIn(reply, options, await acceptInvite(deps, request.body))),
  );

  api.post(
    '/auth/password-reset',
    {
      schema: {
        tags: ['auth'],
        summary: 'Ask for a reset link (always 202; admins get the link in the answer)',
        security: [],
        body: z.object({ email: z.string().min(1).max(320) }).strict(),
      },
    },
    async (request, reply) =>
      inboxGuard(async () => {
        const reset = await requestPasswordReset(deps, request.body.email);
        const admin =
          reset !== null &&
          (request.apiKeyId !== ''
            ? request.workspaceId === reset.agent.workspaceId
            : request.agent?.role === 'admin' &&
              request.agent.workspaceId === reset.agent.workspaceId);
        if (reset && !admin)
          // No mail transport: the operator's log is the delivery channel (single use, 1 h).
          deps.log.info(
            { agentId: reset.agent.id, resetUrl: reset.resetUrl },
            'password reset requested',
          );
        return reply
          .status(202)
          .send(
            admin && reset
              ? { accepted: true, resetToken: reset.resetToken, resetUrl: reset.resetUrl }
              : { accepted: true },
          );
      }),
  );

  api.post(
    '/auth/password-reset/confirm',
    {
      schema: {
        tags: ['auth'],
        summary: 'Set a new password with a reset token (ends all sessions)',
        security: [],
        body: z.object({ token: z.string().min(1).max(200), password }).strict(),
      },
    },
    async (request, reply) =>
      inboxGuard(async () => {
        await confirmPasswordReset(deps, request.body);
        return reply.status(204).send();
      }),
  );

  // Agents
  api.get('/agents', { schema: { tags: ['agents'] } }, async (request) => ({
    items: (await deps.store.inbox.agents.list(request.workspaceId)).map(agentView),
  }));
  api.get('/agents/:id', { schema: { tags: ['agents'], params: idParams } }, async (request) =>
    inboxGuard(async () => agentView(await getAgent(deps, request.workspaceId, request.params.id))),
  );
  api.post(
    '/agents/invites',
    {
      schema: {
        tags: ['agents'],
        summary: 'Invite an agent (admin); the link is shown only in this answer',
        body: z
          .object({
            email,
            name,
            role: z.enum(AGENT_ROLES).default('agent'),
            departmentIds: departmentIds.default([]),
          })
          .strict(),
      },
    },
    async (request, reply) =>
      inboxGuard(async () => {
        const invite = await inviteAgent(deps, {
          workspaceId: request.workspaceId,
          ...request.body,
        });
        return reply.status(201).send({
          agent: agentView(invite.agent),
          inviteToken: invite.inviteToken,
          inviteUrl: invite.inviteUrl,
        });
      }),
  );
  api.patch(
    '/agents/:id',
    {
      schema: {
        tags: ['agents'],
        params: idParams,
        body: z
          .object({
            name: name.optional(),
            role: z.enum(AGENT_ROLES).optional(),
            departmentIds: departmentIds.optional(),
            disabled: z.boolean().optional(),
          })
          .strict(),
      },
    },
    async (request) =>
      inboxGuard(async () =>
        agentView(await updateAgent(deps, request.workspaceId, request.params.id, request.body)),
      ),
  );
  api.delete(
    '/agents/:id',
    { schema: { tags: ['agents'], params: idParams } },
    async (request, reply) =>
      inboxGuard(async () => {
        await deleteAgent(deps, request.workspaceId, request.params.id);
        return reply.status(204).send();
      }),
  );

  // Departments
  api.get('/departments', { schema: { tags: ['departments'] } }, async (request) => ({
    items: (await deps.store.inbox.departments.list(request.workspaceId)).map(departmentView),
  }));
  api.get(
    '/departments/:id',
    { schema: { tags: ['departments'], params: idParams } },
    async (request) =>
      inboxGuard(async () =>
        departmentView(await getDepartment(deps, request.workspaceId, request.params.id)),
      ),
  );
  api.post(
    '/departments',
    { schema: { tags: ['departments'], body: z.object({ name }).strict() } },
    async (request, reply) =>
      inboxGuard(async () =>
        reply
          .status(201)
          .send(
            departmentView(await createDepartment(deps, request.workspaceId, request.body.name)),
          ),
      ),
  );
  api.patch(
    '/departments/:id',
    { schema: { tags: ['departments'], params: idParams, body: z.object({ name }).strict() } },
    async (request) =>
      inboxGuard(async () =>
        departmentView(
          await renameDepartment(deps, request.workspaceId, request.params.id, request.body.name),
        ),
      ),
  );
  api.delete(
    '/departments/:id',
    { schema: { tags: ['departments'], params: idParams } },
    async (request, reply) =>
      inboxGuard(async () => {
        await deleteDepartment(deps, request.workspaceId, request.params.id);
        return reply.status(204).send();
      }),
  );
}
