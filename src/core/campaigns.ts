// A campaign's life (draft → scheduled/running ⇄ paused → completed | cancelled) and what each
// recipient's outcome is, as pure functions: the store and the runner only apply them.

export const CAMPAIGN_STATES = [
  'draft',
  'scheduled',
  'running',
  'paused',
  'completed',
  'cancelled',
] as const;
export type CampaignState = (typeof CAMPAIGN_STATES)[number];

export const CAMPAIGN_ACTIONS = ['start', 'pause', 'resume', 'cancel'] as const;
export type CampaignAction = (typeof CAMPAIGN_ACTIONS)[number];

/** Why a campaign is paused: by a person, or automatically by a WhatsApp signal. */
export const PAUSE_REASONS = [
  'manual',
  'spam_rate',
  'template_paused',
  'template_disabled',
  'template_not_approved',
] as const;
export type PauseReason = (typeof PAUSE_REASONS)[number];

/** Where a recipient is in the runner: waiting, claimed by a runner under a lease, or handed off. */
export const RECIPIENT_STATES = ['pending', 'claimed', 'queued', 'skipped'] as const;
export type RecipientState = (typeof RECIPIENT_STATES)[number];

/** Why a recipient was not sent to (reported; never silently dropped). */
export const SKIP_REASONS = [
  'not_opted_in',
  'opted_out',
  'market_blocked',
  'marketing_user_cap',
  'invalid_phone',
  'invalid_params',
  'duplicate',
  'recipient_not_allowed',
  'template_not_approved',
  'cancelled',
  /** Queued, then taken back by a cancel before any dispatcher claimed it. */
  'withdrawn',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** What a user of the API sees per recipient. */
export const RECIPIENT_OUTCOMES = [
  'pending',
  'queued',
  /** Handed to the provider but its fate is unknown (a crash or timeout): flagged, never resent. */
  'review',
  'sent',
  'delivered',
  'read',
  'failed',
  'skipped',
] as const;
export type RecipientOutcome = (typeof RECIPIENT_OUTCOMES)[number];

export type Transition =
  | { readonly ok: true; readonly state: CampaignState }
  | { readonly ok: false; readonly detail: string };

/**
 * The state an action moves a campaign to. `start` and `resume` go to `scheduled` while the
 * start time is ahead; `cancel` ends any campaign that has not ended; nothing leaves an end state.
 */
export function transition(
  state: CampaignState,
  action: CampaignAction,
  startAt: number | null,
  now: number,
): Transition {
  const runOrWait: CampaignState = startAt !== null && startAt > now ? 'scheduled' : 'running';
  const refused = (): Transition => ({
    ok: false,
    detail: `A ${state} campaign cannot ${action}`,
  });
  switch (action) {
    case 'start':
      return state === 'draft' ? { ok: true, state: runOrWait } : refused();
    case 'pause':
      return state === 'running' || state === 'scheduled'
        ? { ok: true, state: 'paused' }
        : refused();
    case 'resume':
      return state === 'paused' ? { ok: true, state: runOrWait } : refused();
    case 'cancel':
      return state === 'completed' || state === 'cancelled'
        ? refused()
        : { ok: true, state: 'cancelled' };
  }
}

/**
 * A message's stored status as the recipient's outcome (`refused` at dispatch is a skip). A
 * message flagged for review stays `pending` in the store; its recipient is under `review`.
 */
export function outcomeOfMessage(status: string, needsReview = false): RecipientOutcome {
  switch (status) {
    case 'sent':
    case 'delivered':
    case 'read':
    case 'failed':
      return status;
    case 'refused':
      return 'skipped';
    default:
      return needsReview ? 'review' : 'queued';
  }
}

/** Send-time refusals that skip a recipient (reported) rather than stop the campaign. */
export function skipReasonOf(reason: string): SkipReason | null {
  switch (reason) {
    case 'not_opted_in':
    case 'opted_out':
    case 'market_blocked':
    case 'marketing_user_cap':
    case 'recipient_not_allowed':
    case 'template_not_approved':
      return reason;
    case 'template_params':
      return 'invalid_params';
    default:
      return null;
  }
}

/** Failure reasons that pause every running campaign of the channel or of the template. */
export function autoPauseReason(reason: string): PauseReason | null {
  return reason === 'spam_rate' || reason === 'template_paused' || reason === 'template_disabled'
    ? reason
    : null;
}
