// The shape of a flow definition and of a business calendar, shared by the API, the config file
// and the OpenAPI document; rules beyond the shape are in core/automation (flowProblems).
import { z } from 'zod';
import { LIMITS } from '../../core/messages.ts';
import { MAX_HTTP_TIMEOUT_MS, MAX_PATTERN_LENGTH } from '../../core/automation/flow.ts';

const MAX_TEXT = LIMITS.textBody;
const shortText = z.string().min(1).max(200);
const id = z.string().min(1).max(100);

const trigger = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('first_message'),
      of: z.enum(['contact', 'conversation']).default('conversation'),
    })
    .strict(),
  z
    .object({
      type: z.literal('keyword'),
      keywords: z.array(z.string().min(1).max(100)).min(1).max(50),
      match: z.enum(['word', 'exact']).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('pattern'),
      pattern: z.string().min(1).max(MAX_PATTERN_LENGTH),
      flags: z
        .string()
        .regex(/^[imsu]*$/, 'flags may only use i, m, s and u')
        .max(4)
        .optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('payload'),
      payloads: z.array(z.string().min(1).max(256)).min(1).max(50),
    })
    .strict(),
  z.object({ type: z.literal('outside_hours') }).strict(),
  z
    .object({
      type: z.literal('ad_arrival'),
      sourceIds: z.array(z.string().min(1).max(100)).max(100).optional(),
    })
    .strict(),
]);

const button = z
  .object({ id: z.string().min(1).max(256), title: z.string().min(1).max(20) })
  .strict();
const list = z
  .object({
    button: z.string().min(1).max(20),
    sections: z
      .array(
        z
          .object({
            title: z.string().min(1).max(24).optional(),
            rows: z
              .array(
                z
                  .object({
                    id: z.string().min(1).max(200),
                    title: z.string().min(1).max(24),
                    description: z.string().max(72).optional(),
                  })
                  .strict(),
              )
              .min(1)
              .max(10),
          })
          .strict(),
      )
      .min(1)
      .max(10),
  })
  .strict();

const replyFields = {
  text: z.string().min(1).max(MAX_TEXT).optional(),
  buttons: z.array(button).min(1).max(3).optional(),
  list: list.optional(),
  header: z.string().min(1).max(60).optional(),
  footer: z.string().min(1).max(60).optional(),
};

const template = z
  .object({
    name: z.string().min(1).max(512),
    language: z.string().min(2).max(20),
    components: z
      .array(
        z
          .object({
            type: z.enum(['header', 'body', 'button', 'footer']),
            sub_type: z.string().max(40).optional(),
            index: z.union([z.string().max(3), z.number().int().min(0).max(99)]).optional(),
            parameters: z
              .array(z.object({ type: z.string().min(1).max(40) }).loose())
              .max(100)
              .optional(),
          })
          .strict(),
      )
      .max(20)
      .optional(),
  })
  .strict();

const department = { departmentId: id.optional(), department: shortText.optional() };

const step = z.discriminatedUnion('type', [
  z.object({ type: z.literal('reply'), ...replyFields, template: template.optional() }).strict(),
  z
    .object({
      type: z.literal('ask'),
      ...replyFields,
      text: z.string().min(1).max(MAX_TEXT),
      attribute: z
        .string()
        .regex(/^[A-Za-z_][\w.-]{0,63}$/, 'attribute must be a name like "order_number"'),
      validate: z.string().min(1).max(MAX_PATTERN_LENGTH).optional(),
      retry: z.string().min(1).max(MAX_TEXT).optional(),
      timeoutMs: z
        .number()
        .int()
        .min(60_000)
        .max(30 * 24 * 3_600_000)
        .optional(),
    })
    .strict(),
  z.object({ type: z.literal('assign'), ...department }).strict(),
  z
    .object({
      type: z.literal('tag'),
      add: z.array(z.string().min(1).max(50)).max(20).optional(),
      remove: z.array(z.string().min(1).max(50)).max(20).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('consent'),
      kind: z.enum(['opt_in', 'opt_out']),
      purpose: z.enum(['marketing', 'utility', 'authentication', 'all']),
      evidenceText: z.string().min(1).max(2000).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('http'),
      url: z.string().min(1).max(2000),
      method: z.enum(['GET', 'POST', 'PUT', 'PATCH']).optional(),
      headers: z.record(z.string().min(1).max(100), z.string().max(2000)).optional(),
      body: z.unknown().optional(),
      timeoutMs: z.number().int().min(100).max(MAX_HTTP_TIMEOUT_MS).optional(),
      set: z
        .record(
          z.string().regex(/^[A-Za-z_][\w.-]{0,63}$/, 'attribute names look like "order_status"'),
          z.string().min(1).max(200),
        )
        .optional(),
      onError: z.enum(['continue', 'stop']).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('handoff'),
      text: z.string().min(1).max(MAX_TEXT).optional(),
      ...department,
    })
    .strict(),
]);

/** A flow as the API and the config file take it. */
export const flowDefinitionSchema = z
  .object({
    name: shortText,
    enabled: z.boolean().optional(),
    priority: z.number().int().min(0).max(10_000).optional(),
    channels: z.array(id).max(100).optional(),
    cooldownMs: z
      .number()
      .int()
      .min(0)
      .max(365 * 24 * 3_600_000)
      .optional(),
    trigger,
    steps: z.array(step).min(1).max(50),
  })
  .strict();
export type FlowInput = z.infer<typeof flowDefinitionSchema>;

const hhmm = z.string().regex(/^\d{2}:\d{2}$/, 'times are HH:MM');
const spans = z
  .array(z.object({ from: hhmm, to: hhmm }).strict())
  .max(10)
  .optional();

/** A channel's business calendar as the API and the config file take it. */
export const businessCalendarSchema = z
  .object({
    zone: z.string().min(1).max(100),
    weekly: z
      .object({
        mon: spans,
        tue: spans,
        wed: spans,
        thu: spans,
        fri: spans,
        sat: spans,
        sun: spans,
      })
      .strict(),
    holidays: z
      .array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'holidays are dates YYYY-MM-DD'))
      .max(400)
      .optional(),
  })
  .strict();
export type BusinessCalendarInput = z.infer<typeof businessCalendarSchema>;
