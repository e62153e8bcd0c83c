// Request schemas of the public API (zod), also the source of /v1/openapi.json.
import { z } from 'zod';

const id = z.string().min(1).max(100);

const media = z
  .object({
    id: z.string().min(1).optional(),
    link: z.url().optional(),
    caption: z.string().optional(),
    filename: z.string().optional(),
  })
  .strict();

const templateParameter = z
  .object({
    type: z.enum([
      'text',
      'currency',
      'date_time',
      'image',
      'document',
      'video',
      'location',
      'payload',
      'coupon_code',
      'action',
    ]),
    parameter_name: z.string().optional(),
    text: z.string().optional(),
    payload: z.string().optional(),
    coupon_code: z.string().optional(),
    currency: z
      .object({
        fallback_value: z.string(),
        code: z.string().length(3),
        amount_1000: z.number().int(),
      })
      .optional(),
    date_time: z.object({ fallback_value: z.string() }).optional(),
    image: media.optional(),
    document: media.optional(),
    video: media.optional(),
    location: z
      .object({
        latitude: z.number(),
        longitude: z.number(),
        name: z.string().optional(),
        address: z.string().optional(),
      })
      .optional(),
  })
  .loose();

/** LIM-6: WhatsApp carries one media per message; a group is sent as consecutive messages. */
export const MAX_EXTRA_MEDIA = 9;

const extraMedia = z
  .array(
    z
      .object({
        type: z
          .enum(['image', 'video', 'audio', 'document', 'sticker'])
          .optional()
          .describe("The item's media type; the message's own type when omitted"),
        id: z.string().min(1).optional(),
        link: z.url().optional(),
        caption: z.string().optional(),
        filename: z.string().optional(),
      })
      .strict(),
  )
  .min(1)
  .max(MAX_EXTRA_MEDIA)
  .optional()
  .describe(
    'More media after this one (up to 9). WhatsApp carries one media per message, so each is sent as its own message right after the first, in order',
  );

const envelope = {
  channelId: id.describe('The channel (business number) to send from'),
  to: z.string().min(6).max(20).describe('Recipient phone number, E.164 with or without +'),
  replyTo: id.optional().describe('Parley id of a message to quote'),
};

/** A template's components as the Cloud API takes them (also a parked reply's re-engagement). */
export const templateComponents = z.array(
  z.object({
    type: z.enum(['header', 'body', 'button', 'footer']),
    sub_type: z.string().optional(),
    index: z.union([z.string(), z.number().int()]).optional(),
    parameters: z.array(templateParameter).optional(),
  }),
);

export const sendMessageBody = z.discriminatedUnion('type', [
  z
    .object({
      ...envelope,
      type: z.literal('text'),
      text: z.object({ body: z.string().min(1), preview_url: z.boolean().optional() }).strict(),
    })
    .strict(),
  z.object({ ...envelope, type: z.literal('image'), image: media, extraMedia }).strict(),
  z.object({ ...envelope, type: z.literal('video'), video: media, extraMedia }).strict(),
  z.object({ ...envelope, type: z.literal('audio'), audio: media, extraMedia }).strict(),
  z.object({ ...envelope, type: z.literal('document'), document: media, extraMedia }).strict(),
  z.object({ ...envelope, type: z.literal('sticker'), sticker: media, extraMedia }).strict(),
  z
    .object({
      ...envelope,
      type: z.literal('location'),
      location: z
        .object({
          latitude: z.number(),
          longitude: z.number(),
          name: z.string().optional(),
          address: z.string().optional(),
        })
        .strict(),
    })
    .strict(),
  z
    .object({
      ...envelope,
      type: z.literal('contacts'),
      contacts: z
        .array(z.object({ name: z.object({ formatted_name: z.string().min(1) }).loose() }).loose())
        .min(1),
    })
    .strict(),
  z
    .object({
      ...envelope,
      type: z.literal('interactive'),
      interactive: z
        .object({
          type: z.enum([
            'button',
            'list',
            'cta_url',
            'flow',
            'product',
            'product_list',
            'location_request_message',
          ]),
          header: z.object({ type: z.string(), text: z.string().optional() }).loose().optional(),
          body: z.object({ text: z.string().min(1) }).optional(),
          footer: z.object({ text: z.string().min(1) }).optional(),
          action: z
            .object({
              buttons: z
                .array(
                  z.object({
                    type: z.literal('reply'),
                    reply: z.object({ id: z.string().min(1), title: z.string().min(1) }),
                  }),
                )
                .optional(),
              button: z.string().optional(),
              sections: z
                .array(
                  z.object({
                    title: z.string().optional(),
                    rows: z.array(
                      z.object({
                        id: z.string().min(1),
                        title: z.string().min(1),
                        description: z.string().optional(),
                      }),
                    ),
                  }),
                )
                .optional(),
            })
            .loose(),
        })
        .strict(),
    })
    .strict(),
  z
    .object({
      ...envelope,
      type: z.literal('reaction'),
      reaction: z.object({ message_id: z.string().min(1), emoji: z.string() }).strict(),
    })
    .strict(),
  z
    .object({
      ...envelope,
      type: z.literal('template'),
      template: z
        .object({
          name: z.string().min(1).max(512),
          language: z.object({
            code: z.string().min(2),
            policy: z.literal('deterministic').optional(),
          }),
          components: templateComponents.optional(),
        })
        .strict(),
    })
    .strict(),
]);
export type SendMessageBody = z.infer<typeof sendMessageBody>;

export const pagingQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
});

export const conversationsQuery = pagingQuery.extend({
  channel: id.optional(),
  contact: id.optional(),
  state: z.enum(['open', 'closed']).optional(),
  assignee: z.string().max(100).optional().describe('An agent id, or "none" for unassigned'),
});

export const idParams = z.object({ id });

export const createConnectionBody = z
  .object({
    provider: z.enum(['sandbox', 'meta', '360dialog', 'cloud', 'twilio']),
    name: z.string().min(1).max(200),
    config: z.record(z.string(), z.any()).optional(),
    secrets: z
      .record(z.string(), z.string().min(1))
      .optional()
      .describe('Write-only: never returned'),
  })
  .strict();

export const updateConnectionBody = z
  .object({
    name: z.string().min(1).max(200).optional(),
    config: z.record(z.string(), z.any()).optional(),
    secrets: z.record(z.string(), z.string().min(1)).optional(),
  })
  .strict();

export const createChannelBody = z
  .object({
    connectionId: id,
    name: z.string().min(1).max(200),
    providerKey: z
      .string()
      .min(1)
      .max(200)
      .describe('Meta phone_number_id, or the provider’s id for the number'),
    phoneNumber: z.string().regex(/^\+?[1-9]\d{6,14}$/, 'an E.164 number'),
    wabaId: z.string().max(100).optional(),
    throughputMps: z.number().int().min(1).max(10_000).optional(),
    environment: z.enum(['production', 'staging', 'test']).optional(),
    allowList: z
      .array(z.string().regex(/^\+?[1-9]\d{6,14}$/))
      .max(1000)
      .optional(),
  })
  .strict();

export const updateChannelBody = z
  .object({
    name: z.string().min(1).max(200).optional(),
    throughputMps: z.number().int().min(1).max(10_000).optional(),
    environment: z.enum(['production', 'staging', 'test']).optional(),
    allowList: z
      .array(z.string().regex(/^\+?[1-9]\d{6,14}$/))
      .max(1000)
      .optional(),
  })
  .strict();

export const updateConversationBody = z
  .object({
    state: z.enum(['open', 'closed']).optional(),
    assigneeId: z.string().min(1).max(100).nullable().optional(),
  })
  .strict();

export const contactsQuery = pagingQuery.extend({ search: z.string().max(100).optional() });

export const eligibilityQuery = z.object({ channel: id });

export const createApiKeyBody = z.object({ name: z.string().min(1).max(200) }).strict();

export const idempotencyHeader = z.object({
  'idempotency-key': z.string().min(1).max(200).optional(),
});
