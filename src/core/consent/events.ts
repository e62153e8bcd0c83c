// The consent ledger's event shape (OPT-1..3): append-only opt-ins and opt-outs with their
// scope (purpose × reach), source and evidence, so a business can prove consent on request.

/** OPT-3: what a consent covers; `all` covers every purpose. */
export const CONSENT_PURPOSES = ['marketing', 'utility', 'authentication', 'all'] as const;
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];

/** The purposes a template can have (its category, lower case). */
export const MESSAGE_PURPOSES = ['marketing', 'utility', 'authentication'] as const;
export type MessagePurpose = (typeof MESSAGE_PURPOSES)[number];

export const CONSENT_KINDS = ['opt_in', 'opt_out'] as const;
export type ConsentKind = (typeof CONSENT_KINDS)[number];

/**
 * OPT-2 sources of consent records, plus the provider signals of OPT-5: `user_preferences`
 * (Meta's marketing stop/resume webhook) and `provider_error` (async error 131050).
 */
export const CONSENT_SOURCES = [
  'inbound_message',
  'web_form',
  'checkbox',
  'sms',
  'email',
  'qr_code',
  'in_store',
  'ctwa_ad',
  'import',
  'api',
  'user_preferences',
  'provider_error',
] as const;
export type ConsentSource = (typeof CONSENT_SOURCES)[number];

/** OPT-3: one business number (channel), or every number of the workspace. */
export type ConsentReach =
  { readonly kind: 'channel'; readonly channelId: string } | { readonly kind: 'workspace' };

export const WORKSPACE_REACH: ConsentReach = { kind: 'workspace' };

export function channelReach(channelId: string): ConsentReach {
  return { kind: 'channel', channelId };
}

/** OPT-2: what was shown and where, kept verbatim as proof. */
export interface ConsentEvidence {
  /** The exact consent text shown to the person. */
  readonly text?: string;
  readonly textVersion?: string;
  /** The business name the person saw. */
  readonly businessName?: string;
  /** The page the consent was given on. */
  readonly url?: string;
  /** The provider message id (an inbound keyword, a failed send's wamid …). */
  readonly messageId?: string;
  readonly ip?: string;
  readonly userAgent?: string;
  /** The number a signal arrived on, when the event's reach is wider than that number. */
  readonly channelId?: string;
  /** OPT-5: the stop or start keyword the user sent, as matched. */
  readonly keyword?: string;
  /** Anything else worth keeping (a provider's detail text, an import file name …). */
  readonly note?: string;
}

export interface ConsentEvent {
  readonly id: string;
  /** The contact's wa_id (digits of the E.164 number). */
  readonly contact: string;
  readonly kind: ConsentKind;
  readonly purpose: ConsentPurpose;
  readonly reach: ConsentReach;
  readonly source: ConsentSource;
  /** When consent was given or withdrawn (provider time for signals). */
  readonly at: number;
  /** Who recorded it: `system`, `agent:<id>`, `api-key:<id>`, `import:<file>` … */
  readonly recordedBy: string;
  /** OPT-4: an implied utility opt-in from an inbound message, which lapses. */
  readonly implied: boolean;
  /**
   * OPT-5: ids of earlier opt-outs this event reverses (a START keyword, a `resume`). Such an
   * event restores what those opt-outs removed and grants nothing else.
   */
  readonly restores?: readonly string[];
  readonly evidence: ConsentEvidence;
}

export function isConsentPurpose(value: unknown): value is ConsentPurpose {
  return typeof value === 'string' && (CONSENT_PURPOSES as readonly string[]).includes(value);
}

export function isConsentSource(value: unknown): value is ConsentSource {
  return typeof value === 'string' && (CONSENT_SOURCES as readonly string[]).includes(value);
}

/** Words for a scope in refusals and exports: "marketing on channel C1", "all purposes workspace-wide". */
export function describeScope(purpose: ConsentPurpose, reach: ConsentReach): string {
  const what = purpose === 'all' ? 'all purposes' : purpose;
  return reach.kind === 'workspace'
    ? `${what} workspace-wide`
    : `${what} on channel ${reach.channelId}`;
}
