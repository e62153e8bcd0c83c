// Signed Meta Cloud API webhooks carrying one inbound text message each, shaped like the
// `messages` notifications Meta sends (metadata, contacts, messages).
import { randomBytes } from 'node:crypto';
import { signMetaBody } from '../../src/adapters/providers/meta-cloud/meta-signature.ts';

export interface BenchNumber {
  readonly phoneNumberId: string;
  /** Digits only, as Meta puts it in `metadata.display_phone_number`. */
  readonly displayPhoneNumber: string;
}

export interface SignedWebhook {
  readonly body: Buffer;
  readonly signature: string;
  readonly messageId: string;
}

const TEXTS = [
  'Hi, is my order shipped yet?',
  'Can I change the delivery address?',
  'Thanks! 👍',
  'Do you have this in size M?',
  'What are your opening hours on Sunday?',
  'I would like to return the blue jacket.',
];

/** The wa_id of the n-th simulated customer (E.164 digits, a German mobile range). */
export function customerWaId(n: number): string {
  return `49151${String(n).padStart(8, '0')}`;
}

export function textWebhookJson(input: {
  number: BenchNumber;
  waId: string;
  profileName: string;
  messageId: string;
  timestampSec: number;
  text: string;
}): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: {
                display_phone_number: input.number.displayPhoneNumber,
                phone_number_id: input.number.phoneNumberId,
              },
              contacts: [{ profile: { name: input.profileName }, wa_id: input.waId }],
              messages: [
                {
                  from: input.waId,
                  id: input.messageId,
                  timestamp: String(input.timestampSec),
                  text: { body: input.text },
                  type: 'text',
                },
              ],
            },
            field: 'messages',
          },
        ],
      },
    ],
  });
}

/**
 * The i-th webhook of a run: a distinct message id, from customer `i mod customers`, signed with
 * the connection's app secret exactly as Meta signs (non-ASCII escaped, HMAC-SHA256 of the bytes).
 */
export function makeWebhookFactory(input: {
  number: BenchNumber;
  appSecret: string;
  customers: number;
  /** Seconds since the epoch for every message (or per index). */
  timestampSec: number | ((i: number) => number);
}): (i: number) => SignedWebhook {
  const runTag = randomBytes(6).toString('hex').toUpperCase();
  return (i) => {
    const customer = i % input.customers;
    const messageId = `wamid.HBgNNDkxNTEBENCH${runTag}${String(i).padStart(9, '0')}`;
    const json = textWebhookJson({
      number: input.number,
      waId: customerWaId(customer),
      profileName: `Customer ${customer}`,
      messageId,
      timestampSec:
        typeof input.timestampSec === 'number' ? input.timestampSec : input.timestampSec(i),
      text: TEXTS[i % TEXTS.length] ?? 'Hello',
    });
    const { body, signature } = signMetaBody(json, input.appSecret);
    return { body, signature, messageId };
  };
}
