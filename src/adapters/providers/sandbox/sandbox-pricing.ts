// What WhatsApp reports about the price of each message (status webhook `pricing` and
// `conversation`), era by era (WHATSAPP_RULES.md §9). An independent model of Meta's side, so
// Parley's own cost ledger has something to reconcile against.
import { DAY, HOUR } from '../../../core/time.ts';
import { unixSeconds } from './sandbox-meta-format.ts';

export const SANDBOX_ERAS = ['nbp', 'cbp2022', 'cbp2023', 'cbp2024', 'pmp2025', 'pmp2026'] as const;
export type SandboxEra = (typeof SANDBOX_ERAS)[number];

/** First instant (UTC) of each era after `nbp`. */
const ERA_STARTS: ReadonlyArray<readonly [SandboxEra, number]> = [
  ['pmp2026', Date.UTC(2026, 9, 1)],
  ['pmp2025', Date.UTC(2025, 6, 1)],
  ['cbp2024', Date.UTC(2024, 10, 1)],
  ['cbp2023', Date.UTC(2023, 5, 1)],
  ['cbp2022', Date.UTC(2022, 1, 1)],
];

/** The pricing era in force at an instant (UTC calendar; the sandbox's WABAs live in UTC). */
export function eraAt(at: number): SandboxEra {
  for (const [era, start] of ERA_STARTS) if (at >= start) return era;
  return 'nbp';
}

/** FEP-3: the free entry point window lasts 72 h from 2023-06-01 on, 24 h in the 2022 model. */
export function entryPointLength(era: SandboxEra): number {
  return era === 'cbp2022' || era === 'nbp' ? DAY : 72 * HOUR;
}

export type TemplateCategoryLower = 'marketing' | 'utility' | 'authentication';

export interface PricedMessage {
  readonly at: number;
  /** Null for free-form messages. */
  readonly templateCategory: TemplateCategoryLower | null;
  /** CSW open for this (number, user) when the message is sent. */
  readonly windowOpen: boolean;
  /** The open free entry point window the message falls in, if any. */
  readonly entryPoint: { readonly conversationId: string; readonly until: number } | null;
}

export interface PricingReport {
  readonly pricing: Record<string, unknown>;
  /** Present in the conversation eras, and for free entry point messages later. */
  readonly conversation?: {
    readonly id: string;
    readonly expiresAt: number;
    readonly originType: string;
  };
}

interface OpenConversation {
  readonly id: string;
  readonly category: string;
  readonly openedAt: number;
  readonly expiresAt: number;
}

/**
 * Per (number, user) conversation bookkeeping and the pricing object of every accepted message.
 * @see https://developers.facebook.com/docs/whatsapp/pricing
 */
export class SandboxPricing {
  readonly #open = new Map<string, OpenConversation[]>();
  readonly #newId: () => string;

  constructor(newConversationId: () => string) {
    this.#newId = newConversationId;
  }

  /** Prices one message for the pair `key` and updates the pair's open conversations. */
  price(key: string, message: PricedMessage): PricingReport {
    const era = eraAt(message.at);
    const freeForm = message.templateCategory === null;
    if (era === 'pmp2025' || era === 'pmp2026') return this.#perMessage(era, message);
    if (era === 'nbp')
      // NBP-1/NBP-2: only a template delivered outside the CSW is charged
      return {
        pricing: { billable: !freeForm && !message.windowOpen, pricing_model: 'NBP' },
      };
    return this.#conversation(key, era, message);
  }

  #perMessage(era: SandboxEra, m: PricedMessage): PricingReport {
    if (m.entryPoint)
      // PMP-4 / S26-3: everything inside an open FEP window is free
      return {
        pricing: {
          billable: false,
          pricing_model: 'PMP',
          type: 'free_entry_point',
          category: 'referral_conversion',
        },
        conversation: {
          id: m.entryPoint.conversationId,
          expiresAt: m.entryPoint.until,
          originType: 'referral_conversion',
        },
      };
    const category = m.templateCategory ?? 'service';
    let type = 'regular';
    if (era === 'pmp2025') {
      // PMP-3: free-form is free; PMP-2: utility inside the CSW is free
      if (m.templateCategory === null) type = 'free_customer_service';
      else if (m.templateCategory === 'utility' && m.windowOpen) type = 'free_customer_service';
    }
    return {
      pricing: { billable: type === 'regular', pricing_model: 'PMP', type, category },
    };
  }

  #conversation(key: string, era: SandboxEra, m: PricedMessage): PricingReport {
    const open = (this.#open.get(key) ?? []).filter((c) => c.expiresAt > m.at);
    let conversation: OpenConversation | undefined;
    if (m.entryPoint) {
      // FEP-4: the FEP window is a conversation of its own that ends the others
      conversation = open.find((c) => c.id === m.entryPoint?.conversationId) ?? {
        id: m.entryPoint.conversationId,
        category: 'referral_conversion',
        openedAt: m.at,
        expiresAt: m.entryPoint.until,
      };
      this.#open.set(key, [conversation]);
    } else if (era === 'cbp2022') {
      // CBP-1/CBP-2: one conversation at a time, user- or business-initiated
      conversation = open[0];
      if (!conversation) {
        conversation = {
          id: this.#newId(),
          category: m.windowOpen ? 'user_initiated' : 'business_initiated',
          openedAt: m.at,
          expiresAt: m.at + DAY,
        };
        open.push(conversation);
      }
      this.#open.set(key, open);
    } else {
      // CAT-2/CAT-3: a template opens a conversation of its category; free-form joins any open one
      const wanted = m.templateCategory;
      conversation =
        wanted === null
          ? open.reduce<OpenConversation | undefined>(
              (latest, c) => (!latest || c.openedAt > latest.openedAt ? c : latest),
              undefined,
            )
          : open.find((c) => c.category === wanted);
      if (!conversation) {
        conversation = {
          id: this.#newId(),
          category: wanted ?? 'service',
          openedAt: m.at,
          expiresAt: m.at + DAY,
        };
        open.push(conversation);
      }
      this.#open.set(key, open);
    }
    const free =
      conversation.category === 'referral_conversion' ||
      (era === 'cbp2024' && conversation.category === 'service');
    return {
      pricing: { billable: !free, pricing_model: 'CBP', category: conversation.category },
      conversation: {
        id: conversation.id,
        expiresAt: conversation.expiresAt,
        originType: conversation.category,
      },
    };
  }
}

/** The status webhook's `conversation` object; `expiration_timestamp` rides on `sent` only. */
export function conversationObject(
  report: PricingReport,
  status: string,
): Record<string, unknown> | undefined {
  const c = report.conversation;
  if (!c) return undefined;
  return {
    id: c.id,
    ...(status === 'sent' ? { expiration_timestamp: unixSeconds(c.expiresAt) } : {}),
    origin: { type: c.originType },
  };
}
