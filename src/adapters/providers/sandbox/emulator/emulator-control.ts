// The emulator's control API: make a simulated user write, react, tap a button, arrive from an
// ad or read; change template statuses; switch chaos on and off; move the clock forward.
import { randomInt } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { SANDBOX_TEMPLATE_STATUSES } from '../sandbox-templates.ts';
import type { UserWritesInput } from '../sandbox-world.ts';
import type { EmulatorContext } from './emulator-server.ts';

const waId = z.string().regex(/^\+?\d{7,15}$/, 'a phone number in E.164 digits');
const delayRange = z.tuple([z.number().int().min(0), z.number().int().min(0)]);

const userBase = {
  /** Business number the user writes to (default: the emulator's first number). */
  phone_number_id: z.string().min(1).optional(),
  name: z.string().max(256).optional(),
};

const writeBody = z.object({
  ...userBase,
  type: z.string().min(1).default('text'),
  text: z.string().max(4096).optional(),
  content: z.unknown().optional(),
  /** `id` of the quoted message (a reply). */
  reply_to: z.string().min(1).optional(),
  forwarded: z.boolean().optional(),
});

const reactBody = z.object({
  ...userBase,
  /** The message reacted to (default: the business's latest message to this user). */
  message_id: z.string().min(1).optional(),
  /** Empty removes the reaction. */
  emoji: z.string().max(16).default('👍'),
});

const clickBody = z.object({
  ...userBase,
  /** `button`: a reply button; `list`: a list row; `quick_reply`: a template quick-reply button. */
  kind: z.enum(['button', 'list', 'quick_reply']).default('button'),
  id: z.string().min(1).max(256).optional(),
  title: z.string().min(1).max(256),
  description: z.string().max(72).optional(),
  /** The interactive or template message tapped (default: the business's latest). */
  message_id: z.string().min(1).optional(),
});

const adBody = z.object({
  ...userBase,
  text: z.string().max(4096).default('Hi! I saw your ad.'),
  referral: z.record(z.string(), z.unknown()).optional(),
});

const readBody = z.object({
  ...userBase,
  message_ids: z.array(z.string().min(1)).max(1000).optional(),
});

const marketingBody = z.object({ ...userBase, value: z.enum(['stop', 'resume']) });

const templateStatusBody = z.object({
  phone_number_id: z.string().min(1).optional(),
  name: z.string().min(1),
  language: z.string().min(1),
  status: z.enum(SANDBOX_TEMPLATE_STATUSES),
  reason: z.string().optional(),
});

const chaosBody = z
  .object({
    rateLimitBurst: z.number().int().min(0),
    retryAfterSeconds: z.number().int().min(0),
    serverErrors: z.number().int().min(0),
    timeouts: z.number().int().min(0),
    timeoutDelivers: z.union([z.boolean(), z.number().min(0).max(1)]),
    authErrors: z.number().int().min(0),
    duplicateWebhooks: z.number().min(0).max(1),
    reorderWebhooks: z.boolean(),
    lateFailures: z.number().int().min(0),
    lateFailureCode: z.number().int().positive(),
    webhookDelayMs: delayRange,
  })
  .partial()
  .strict();

const advanceBody = z.object({
  /** How far to move the emulator's clock (at most a year). */
  ms: z
    .number()
    .int()
    .min(0)
    .max(366 * 24 * 3_600_000),
});

const webhookBody = z.object({ url: z.url().nullable() });

type Parsed<T> = { ok: true; value: T } | { ok: false };

/** Control errors use the Graph error shape too, so one client parser reads everything. */
function parse<T>(schema: z.ZodType<T>, body: unknown, reply: FastifyReply): Parsed<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return { ok: true, value: result.data };
  const details = result.error.issues
    .map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`)
    .join('; ');
  void reply.code(400).send({
    error: { message: `(#100) Invalid parameter: ${details}`, type: 'ControlError', code: 100 },
  });
  return { ok: false };
}

function refuse(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).send({ error: { message, type: 'ControlError', code: status } });
}

/**
 * Registers `/control/…`. The control API has no auth: the emulator listens on 127.0.0.1 by
 * default and is a test tool, never a place for real customer data.
 */
export function registerControlRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const { world, clock } = ctx;
  const numberId = (given: string | undefined) => given ?? ctx.defaultNumber.phoneNumberId;
  const known = (reply: FastifyReply, id: string) => {
    if (world.resolveNumber(id)) return true;
    void refuse(reply, 404, `no business number ${id}`);
    return false;
  };
  const digits = (s: string) => s.replace(/\D/g, '');

  /** Runs a user action; a simulated user who cannot act (nothing to react to) is a 409. */
  const act = async <T>(reply: FastifyReply, fn: () => Promise<T>): Promise<T | FastifyReply> => {
    try {
      return await fn();
    } catch (error) {
      return refuse(reply, 409, (error as Error).message.replace(/^sandbox: /, ''));
    }
  };

  app.get('/control', () => ({
    now: new Date(clock.now()).toISOString(),
    clock_offset_ms: clock.offset,
    webhook_url: ctx.webhooks.url ?? null,
    numbers: world.numbers(),
    chaos: world.chaosState,
    stats: world.stats,
  }));

  app.post<{ Params: { waId: string } }>('/control/users/:waId/write', async (request, reply) => {
    const body = parse(writeBody, request.body, reply);
    if (!body.ok || !waIdOk(request.params.waId, reply)) return reply;
    const b = body.value;
    const phoneNumberId = numberId(b.phone_number_id);
    if (!known(reply, phoneNumberId)) return reply;
    const input: UserWritesInput = {
      from: request.params.waId,
      type: b.type,
      ...(b.name === undefined ? {} : { name: b.name }),
      ...(b.text === undefined ? {} : { text: b.text }),
      ...(b.content === undefined ? {} : { content: b.content }),
      ...(b.reply_to === undefined && !b.forwarded
        ? {}
        : {
            context: {
              ...(b.reply_to === undefined ? {} : { id: b.reply_to }),
              ...(b.forwarded ? { forwarded: true } : {}),
            },
          }),
    };
    return act(reply, () => world.userWrites(phoneNumberId, input));
  });

  app.post<{ Params: { waId: string } }>('/control/users/:waId/react', async (request, reply) => {
    const body = parse(reactBody, request.body, reply);
    if (!body.ok || !waIdOk(request.params.waId, reply)) return reply;
    const b = body.value;
    const phoneNumberId = numberId(b.phone_number_id);
    if (!known(reply, phoneNumberId)) return reply;
    const target =
      b.message_id ?? world.lastBusinessMessage(phoneNumberId, request.params.waId)?.id;
    if (target === undefined)
      return refuse(reply, 409, 'this user has received no message to react to');
    return act(reply, () =>
      world.userWrites(phoneNumberId, {
        from: request.params.waId,
        ...(b.name === undefined ? {} : { name: b.name }),
        type: 'reaction',
        content: { message_id: target, emoji: b.emoji },
      }),
    );
  });

  app.post<{ Params: { waId: string } }>('/control/users/:waId/click', async (request, reply) => {
    const body = parse(clickBody, request.body, reply);
    if (!body.ok || !waIdOk(request.params.waId, reply)) return reply;
    const b = body.value;
    const phoneNumberId = numberId(b.phone_number_id);
    if (!known(reply, phoneNumberId)) return reply;
    const quoted =
      b.message_id ?? world.lastBusinessMessage(phoneNumberId, request.params.waId)?.id;
    if (quoted === undefined)
      return refuse(reply, 409, 'this user has received no message with buttons to tap');
    const id = b.id ?? b.title.toLowerCase().replace(/\W+/g, '_');
    const from = request.params.waId;
    const named = b.name === undefined ? {} : { name: b.name };
    // a tap always quotes the message whose button it was
    const context = { id: quoted };
    if (b.kind === 'quick_reply')
      return act(reply, () =>
        world.userWrites(phoneNumberId, {
          from,
          ...named,
          type: 'button',
          content: { payload: b.id ?? b.title, text: b.title },
          context,
        }),
      );
    const content =
      b.kind === 'button'
        ? { type: 'button_reply', button_reply: { id, title: b.title } }
        : {
            type: 'list_reply',
            list_reply: {
              id,
              title: b.title,
              ...(b.description === undefined ? {} : { description: b.description }),
            },
          };
    return act(reply, () =>
      world.userWrites(phoneNumberId, { from, ...named, type: 'interactive', content, context }),
    );
  });

  app.post<{ Params: { waId: string } }>(
    '/control/users/:waId/arrive-from-ad',
    async (request, reply) => {
      const body = parse(adBody, request.body, reply);
      if (!body.ok || !waIdOk(request.params.waId, reply)) return reply;
      const b = body.value;
      const phoneNumberId = numberId(b.phone_number_id);
      if (!known(reply, phoneNumberId)) return reply;
      return act(reply, () =>
        world.userWrites(phoneNumberId, {
          from: request.params.waId,
          ...(b.name === undefined ? {} : { name: b.name }),
          text: b.text,
          referral: b.referral ?? true,
        }),
      );
    },
  );

  app.post<{ Params: { waId: string } }>('/control/users/:waId/read', async (request, reply) => {
    const body = parse(readBody, request.body, reply);
    if (!body.ok || !waIdOk(request.params.waId, reply)) return reply;
    const phoneNumberId = numberId(body.value.phone_number_id);
    if (!known(reply, phoneNumberId)) return reply;
    const read = await world.userReads(phoneNumberId, request.params.waId, body.value.message_ids);
    return { read };
  });

  app.post<{ Params: { waId: string } }>(
    '/control/users/:waId/marketing',
    async (request, reply) => {
      const body = parse(marketingBody, request.body, reply);
      if (!body.ok || !waIdOk(request.params.waId, reply)) return reply;
      const phoneNumberId = numberId(body.value.phone_number_id);
      if (!known(reply, phoneNumberId)) return reply;
      if (body.value.value === 'stop')
        await world.userStopsMarketing(phoneNumberId, request.params.waId);
      else await world.userResumesMarketing(phoneNumberId, request.params.waId);
      return { value: body.value.value };
    },
  );

  app.get<{ Params: { waId: string }; Querystring: { phone_number_id?: string } }>(
    '/control/users/:waId',
    (request, reply) => {
      if (!waIdOk(request.params.waId, reply)) return reply;
      const phoneNumberId = numberId(request.query.phone_number_id);
      const window = world.windowOf(phoneNumberId, request.params.waId);
      return {
        wa_id: digits(request.params.waId),
        window: {
          open: window.open,
          last_inbound_at: window.lastInboundAt,
          closes_at: window.closesAt,
        },
        last_business_message: world.lastBusinessMessage(phoneNumberId, request.params.waId),
        last_user_message: world.lastUserMessage(phoneNumberId, request.params.waId),
      };
    },
  );

  app.get<{ Querystring: { phone_number_id?: string; limit?: string } }>(
    '/control/messages',
    (request) => {
      const limit = Math.min(Math.max(Number(request.query.limit ?? 100) || 100, 1), 10_000);
      return { data: world.outbound(request.query.phone_number_id).slice(-limit) };
    },
  );

  app.get<{ Querystring: { limit?: string } }>('/control/webhooks', (request) => {
    const limit = Math.min(Math.max(Number(request.query.limit ?? 100) || 100, 1), 500);
    return {
      data: ctx.webhooks
        .log()
        .slice(-limit)
        .map((a) => ({ ...a, payload: JSON.parse(a.body) as unknown, body: undefined })),
    };
  });

  app.put('/control/webhook', (request, reply) => {
    const body = parse(webhookBody, request.body, reply);
    if (!body.ok) return reply;
    ctx.webhooks.url = body.value.url ?? undefined;
    return { webhook_url: ctx.webhooks.url ?? null };
  });

  /** Meta's subscription handshake against the receiver (B.1): GET with hub.* parameters. */
  app.post('/control/webhook/verify', async (_request, reply) => {
    const url = ctx.webhooks.url;
    if (url === undefined) return refuse(reply, 409, 'no webhook URL is configured');
    if (ctx.verifyToken === undefined)
      return refuse(reply, 409, 'no verify token is configured (--verify-token)');
    const challenge = String(randomInt(1_000_000_000, 2_000_000_000));
    const target = new URL(url);
    target.searchParams.set('hub.mode', 'subscribe');
    target.searchParams.set('hub.challenge', challenge);
    target.searchParams.set('hub.verify_token', ctx.verifyToken);
    try {
      const response = await fetch(target, { signal: AbortSignal.timeout(10_000) });
      const text = await response.text();
      return { verified: response.ok && text.trim() === challenge, status: response.status };
    } catch (error) {
      return { verified: false, status: null, error: (error as Error).message };
    }
  });

  app.post('/control/templates/status', async (request, reply) => {
    const body = parse(templateStatusBody, request.body, reply);
    if (!body.ok) return reply;
    const b = body.value;
    const phoneNumberId = numberId(b.phone_number_id);
    if (!known(reply, phoneNumberId)) return reply;
    if (!world.template(phoneNumberId, b.name, b.language))
      return refuse(reply, 404, `no template ${b.name} (${b.language})`);
    return world.setTemplateStatus(phoneNumberId, b.name, b.language, b.status, {
      ...(b.reason === undefined ? {} : { reason: b.reason }),
    });
  });

  app.post('/control/chaos', (request, reply) => {
    const body = parse(chaosBody, request.body, reply);
    if (!body.ok) return reply;
    const settings = Object.fromEntries(
      Object.entries(body.value).filter(([, v]) => v !== undefined),
    );
    return world.chaos(settings);
  });

  app.delete('/control/chaos', () => {
    world.calm();
    return world.chaosState;
  });

  app.get('/control/clock', () => ({
    now: clock.now(),
    iso: new Date(clock.now()).toISOString(),
    offset_ms: clock.offset,
    pending_timers: clock.pending,
  }));

  app.post('/control/clock/advance', async (request, reply) => {
    const body = parse(advanceBody, request.body, reply);
    if (!body.ok) return reply;
    await clock.advance(body.value.ms);
    return { now: clock.now(), iso: new Date(clock.now()).toISOString(), offset_ms: clock.offset };
  });

  function waIdOk(value: string, reply: FastifyReply): boolean {
    if (waId.safeParse(value).success) return true;
    void refuse(reply, 400, `'${value}' is not a phone number (E.164 digits)`);
    return false;
  }
}
