// `parley campaigns create|estimate|start|pause|resume|cancel|status`: campaigns from the command
// line, against the configured store (a running Parley's runner picks started campaigns up).
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { ParleyConfig } from '../app/config.ts';
import {
  actOnCampaign,
  campaignInput,
  createCampaign,
  estimateCampaign,
  getCampaign,
  listRecipients,
  type CampaignDetail,
} from '../app/campaigns.ts';
import { PolicyError } from '../app/policy-errors.ts';
import { CAMPAIGN_ACTIONS, RECIPIENT_OUTCOMES, type RecipientOutcome } from '../core/campaigns.ts';
import {
  CommandError,
  chooseChannel,
  chooseWorkspace,
  processIo,
  withParley,
  type CommandIo,
} from './cli-context.ts';

export interface CampaignCreateOptions {
  readonly name: string;
  readonly template: string;
  readonly language: string;
  /** A CSV audience (phone + parameter columns). */
  readonly csv?: string;
  /** Contacts having every one of these tags. */
  readonly tag?: readonly string[];
  /** Contacts whose attribute equals the value: `key=value`. */
  readonly attribute?: readonly string[];
  /** JSON array of template components for recipients without their own. */
  readonly components?: string;
  readonly startAt?: string;
  readonly skipInvalidLines?: boolean;
  readonly channel?: string;
  readonly workspace?: string;
}

export interface CampaignIdOptions {
  readonly workspace?: string;
  /** `status`: also list recipients (optionally of one outcome). */
  readonly recipients?: boolean;
  readonly outcome?: string;
}

/** The campaign as the CLI prints it: one JSON document, like the API's. */
function summary(d: CampaignDetail): string {
  const c = d.campaign;
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return JSON.stringify(
    {
      id: c.id,
      name: c.name,
      state: c.state,
      pauseReason: c.pauseReason,
      pauseDetail: c.pauseDetail,
      template: { name: c.template.name, language: c.template.language, category: c.category },
      startAt: iso(c.startAt),
      deferredUntil: iso(c.deferredUntil),
      progress: {
        total: d.progress.total,
        ...d.progress.byOutcome,
        skippedByReason: d.progress.skippedByReason,
        failedByReason: d.progress.failedByReason,
      },
    },
    null,
    2,
  );
}

/** Prints a known problem (exit 1); anything else is a bug and goes up. */
function failed(io: CommandIo, command: string, error: unknown): number {
  if (error instanceof CommandError || error instanceof PolicyError) {
    io.err(`parley campaigns ${command}: ${error.message}`);
    if (error instanceof PolicyError) {
      const problems = error.extensions.problems;
      if (Array.isArray(problems))
        for (const p of problems as Array<{ line: number; problem: string }>)
          io.err(`  line ${p.line}: ${p.problem}`);
    }
    return 1;
  }
  throw error;
}

function parseAttributes(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new CommandError(`--attribute "${pair}" is not key=value`);
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

export async function runCampaignCreate(
  options: CampaignCreateOptions,
  io: CommandIo = processIo,
  config?: ParleyConfig,
): Promise<number> {
  try {
    if (options.csv !== undefined && (options.tag?.length || options.attribute?.length))
      throw new CommandError('give either --csv or --tag/--attribute, not both');
    let csv: string | undefined;
    if (options.csv !== undefined) {
      try {
        csv = await readFile(options.csv, 'utf8');
      } catch (e) {
        throw new CommandError(`cannot read ${options.csv}: ${(e as Error).message}`);
      }
    }
    let components: unknown;
    if (options.components !== undefined) {
      try {
        components = JSON.parse(options.components);
      } catch {
        throw new CommandError('--components is not JSON (an array of template components)');
      }
    }
    const input = campaignInput.safeParse({
      name: options.name,
      template: {
        name: options.template,
        language: { code: options.language },
        ...(components !== undefined ? { components } : {}),
      },
      audience:
        csv !== undefined
          ? { csv, ...(options.skipInvalidLines ? { invalidLines: 'skip' } : {}) }
          : {
              ...(options.tag?.length ? { tags: options.tag } : {}),
              ...(options.attribute?.length
                ? { attributes: parseAttributes(options.attribute) }
                : {}),
            },
      ...(options.startAt !== undefined ? { startAt: options.startAt } : {}),
    });
    if (!input.success)
      throw new CommandError(
        input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    return await withParley(async (deps) => {
      const workspace = await chooseWorkspace(deps, options.workspace);
      const channel = await chooseChannel(deps, workspace, options.channel);
      const created = await createCampaign(deps, workspace.id, {
        ...input.data,
        channelId: channel.id,
      });
      io.out(summary(created));
      io.err(
        `campaign ${created.campaign.id} created as a draft: ${created.progress.byOutcome.pending} to send, ${created.progress.byOutcome.skipped} skipped; start it with: parley campaigns start ${created.campaign.id}`,
      );
      return 0;
    }, config);
  } catch (error) {
    return failed(io, 'create', error);
  }
}

export async function runCampaignEstimate(
  id: string,
  options: CampaignIdOptions,
  io: CommandIo = processIo,
  config?: ParleyConfig,
): Promise<number> {
  try {
    return await withParley(async (deps) => {
      const workspace = await chooseWorkspace(deps, options.workspace);
      const estimate = await estimateCampaign(deps, workspace.id, id);
      io.out(JSON.stringify(estimate, null, 2));
      return 0;
    }, config);
  } catch (error) {
    return failed(io, 'estimate', error);
  }
}

export async function runCampaignAction(
  action: (typeof CAMPAIGN_ACTIONS)[number],
  id: string,
  options: CampaignIdOptions,
  io: CommandIo = processIo,
  config?: ParleyConfig,
): Promise<number> {
  try {
    return await withParley(async (deps) => {
      const workspace = await chooseWorkspace(deps, options.workspace);
      io.out(summary(await actOnCampaign(deps, workspace.id, id, action)));
      return 0;
    }, config);
  } catch (error) {
    return failed(io, action, error);
  }
}

export async function runCampaignStatus(
  id: string,
  options: CampaignIdOptions,
  io: CommandIo = processIo,
  config?: ParleyConfig,
): Promise<number> {
  try {
    const outcome = options.outcome;
    if (outcome !== undefined && !(RECIPIENT_OUTCOMES as readonly string[]).includes(outcome))
      throw new CommandError(`--outcome must be one of ${RECIPIENT_OUTCOMES.join(', ')}`);
    return await withParley(async (deps) => {
      const workspace = await chooseWorkspace(deps, options.workspace);
      io.out(summary(await getCampaign(deps, workspace.id, id)));
      if (options.recipients || outcome !== undefined) {
        let cursor: string | undefined;
        do {
          const page = await listRecipients(deps, workspace.id, id, {
            limit: 1000,
            ...(cursor ? { cursor } : {}),
            ...(outcome ? { outcome: outcome as RecipientOutcome } : {}),
          });
          for (const r of page.items)
            io.out([r.seq, r.waId, r.outcome, r.reason ?? '', r.messageId ?? ''].join('\t'));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
      }
      return 0;
    }, config);
  } catch (error) {
    return failed(io, 'status', error);
  }
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerCampaignsCommand(program: Command, io: CommandIo = processIo): Command {
  const campaigns = program
    .command('campaigns')
    .description(
      'template campaigns: audience, consent skip report, estimate, start/pause/resume/cancel',
    );
  campaigns
    .command('create')
    .description(
      'create a draft campaign from a CSV (phone, body.1 …) or contacts by tag/attribute',
    )
    .requiredOption('--name <name>', 'the campaign’s name')
    .requiredOption('--template <name>', 'an approved template known to Parley')
    .requiredOption('--language <code>', 'the template’s language (en, en_US …)')
    .option(
      '--csv <file>',
      'audience: phone column and parameter columns (body.1, header.1, button.0)',
    )
    .option('--tag <tag>', 'audience: contacts having this tag (repeatable)', collect)
    .option(
      '--attribute <key=value>',
      'audience: contacts with this attribute (repeatable)',
      collect,
    )
    .option('--components <json>', 'template components for recipients without their own')
    .option('--start-at <iso>', 'schedule: not before this instant')
    .option('--skip-invalid-lines', 'report bad CSV lines as skipped instead of refusing the file')
    .option('--channel <id|name>', 'the channel (default: the only one)')
    .option('--workspace <id|name>', 'the workspace (default: the only one)')
    .action(async (opts: CampaignCreateOptions) => {
      process.exitCode = await runCampaignCreate(opts, io);
    });
  campaigns
    .command('estimate')
    .argument('<id>', 'campaign id')
    .description('cost of the recipients still to send, per market and category')
    .option('--workspace <id|name>', 'the workspace (default: the only one)')
    .action(async (id: string, opts: CampaignIdOptions) => {
      process.exitCode = await runCampaignEstimate(id, opts, io);
    });
  for (const action of CAMPAIGN_ACTIONS)
    campaigns
      .command(action)
      .argument('<id>', 'campaign id')
      .description(`${action} a campaign`)
      .option('--workspace <id|name>', 'the workspace (default: the only one)')
      .action(async (id: string, opts: CampaignIdOptions) => {
        process.exitCode = await runCampaignAction(action, id, opts, io);
      });
  campaigns
    .command('status')
    .argument('<id>', 'campaign id')
    .description('state and progress; --recipients lists each recipient’s outcome (tab-separated)')
    .option('--recipients', 'list every recipient: seq, number, outcome, reason, message id')
    .option(
      '--outcome <outcome>',
      `only recipients with this outcome (${RECIPIENT_OUTCOMES.join(', ')})`,
    )
    .option('--workspace <id|name>', 'the workspace (default: the only one)')
    .action(async (id: string, opts: CampaignIdOptions) => {
      process.exitCode = await runCampaignStatus(id, opts, io);
    });
  return campaigns;
}
