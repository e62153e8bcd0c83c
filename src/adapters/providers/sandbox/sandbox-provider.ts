// The sandbox as a Provider: Parley talks to the in-process SandboxWorld exactly as it talks to
// Meta's Cloud API — same request bodies, same answers, same signed webhooks, same parser.
import type { InboundEvent } from '../../../core/inbound.ts';
import type {
  ChannelAddress,
  Provider,
  ProviderTemplate,
  ProviderTemplateDefinition,
  RawWebhook,
  SendRequest,
  SendResult,
  VerifyResult,
} from '../../../ports/provider.ts';
import { failureFromMetaError } from '../meta-cloud/meta-errors.ts';
import { buildMarkReadBody, buildMetaMessageBody } from '../meta-cloud/meta-request-build.ts';
import { verifyMetaSignature } from '../meta-cloud/meta-signature.ts';
import { parseMetaWebhook } from '../meta-cloud/meta-webhook-parse.ts';
import type { SandboxAnswer, SandboxWorld } from './sandbox-world.ts';
import type { TemplateDefinition } from './sandbox-templates.ts';

export interface SandboxProviderOptions {
  /** How long a send waits for an answer before giving up (default 10 s of world time). */
  readonly timeoutMs?: number;
}

export const DEFAULT_SANDBOX_TIMEOUT_MS = 10_000;

const SIGNATURE_SHAPE = /^sha256=[0-9a-fA-F]{64}$/;

function header(headers: RawWebhook['headers'], name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers))
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  return undefined;
}

/**
 * A Provider backed by a SandboxWorld. Sends go through the world's Cloud API endpoint with the
 * Meta adapter's own request builder and error mapping, so every answer and reason is the one
 * the Meta adapter would produce for the same Cloud API response.
 * @see https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
 */
export function createSandboxProvider(
  world: SandboxWorld,
  options: SandboxProviderOptions = {},
): Provider {
  const timeoutMs = options.timeoutMs ?? DEFAULT_SANDBOX_TIMEOUT_MS;

  const numberOf = (channel: ChannelAddress) => ({
    displayPhoneNumber: channel.phoneNumber,
    ...(channel.wabaId === undefined ? {} : { wabaId: channel.wabaId }),
  });

  async function resultOf(
    answer: SandboxAnswer,
    okId: (body: Record<string, unknown>) => string | undefined,
  ): Promise<SendResult> {
    if (answer.kind === 'no_response') {
      // WhatsApp has no idempotency key: after a timeout nobody knows whether it went out
      await world.sleep(timeoutMs);
      return {
        ok: false,
        failure: {
          reason: 'provider_unavailable',
          details: `no answer from the sandbox Cloud API within ${timeoutMs} ms`,
          maybeSent: true,
        },
      };
    }
    if (answer.status === 200) {
      const id = okId(answer.body);
      if (id !== undefined) return { ok: true, providerMessageId: id };
    }
    return {
      ok: false,
      failure: failureFromMetaError(
        answer.status,
        answer.body,
        answer.headers['retry-after'],
        world.clock.now(),
      ),
    };
  }

  return {
    kind: 'sandbox',

    send(request: SendRequest): Promise<SendResult> {
      const answer = world.answer(
        request.channel.providerKey,
        buildMetaMessageBody(request),
        numberOf(request.channel),
      );
      return resultOf(answer, (body) => {
        const messages = body.messages;
        const first: unknown = Array.isArray(messages) ? messages[0] : undefined;
        const id =
          typeof first === 'object' && first !== null ? (first as { id?: unknown }).id : undefined;
        return typeof id === 'string' ? id : undefined;
      });
    },

    markRead(channel: ChannelAddress, providerMessageId: string): Promise<SendResult> {
      const answer = world.answer(
        channel.providerKey,
        buildMarkReadBody(providerMessageId),
        numberOf(channel),
      );
      return resultOf(answer, (body) => (body.success === true ? providerMessageId : undefined));
    },

    /**
     * `X-Hub-Signature-256` over the exact raw bytes with the world's app secret (B.2).
     * @see https://developers.facebook.com/docs/graph-api/webhooks/getting-started#event-notifications
     */
    verifyWebhook(request: RawWebhook): VerifyResult {
      const signature = header(request.headers, 'x-hub-signature-256');
      if (signature === undefined)
        return {
          ok: false,
          status: 401,
          detail: 'X-Hub-Signature-256 header is missing: every sandbox webhook is signed',
        };
      if (!SIGNATURE_SHAPE.test(signature.trim()))
        return {
          ok: false,
          status: 401,
          detail: "X-Hub-Signature-256 must be 'sha256=' followed by 64 hexadecimal digits",
        };
      if (!verifyMetaSignature(request.body, signature, world.appSecret))
        return {
          ok: false,
          status: 401,
          detail:
            "X-Hub-Signature-256 does not match an HMAC-SHA256 of the raw body with the sandbox's app secret",
        };
      return { ok: true };
    },

    /**
     * The `hub.challenge` handshake with the world's verify token (B.1).
     * @see https://developers.facebook.com/docs/graph-api/webhooks/getting-started#verification-requests
     */
    answerChallenge(query: Readonly<Record<string, string | undefined>>): string | null {
      const token = world.verifyToken;
      if (token === undefined) return null;
      if (query['hub.mode'] !== 'subscribe' || query['hub.verify_token'] !== token) return null;
      return query['hub.challenge'] ?? null;
    },

    parseWebhook(request: RawWebhook): InboundEvent[] {
      return parseMetaWebhook(request.body, { receivedAt: world.clock.now() });
    },

    listTemplates(channel: ChannelAddress): Promise<ProviderTemplate[]> {
      if (!world.resolveNumber(channel.providerKey, numberOf(channel)))
        return Promise.reject(new Error(`sandbox: unknown business number ${channel.providerKey}`));
      return Promise.resolve(
        world.templates(channel.providerKey).map((t) => ({
          providerTemplateId: t.id,
          name: t.name,
          language: t.language,
          category: t.category,
          status: t.status,
          components: [...t.components],
          parameterFormat: t.parameter_format,
        })),
      );
    },

    /** TPL-8: the world reviews it (PENDING, then APPROVED) and announces it by webhook. */
    createTemplate(channel: ChannelAddress, template: ProviderTemplateDefinition) {
      if (!world.resolveNumber(channel.providerKey, numberOf(channel)))
        return Promise.reject(new Error(`sandbox: unknown business number ${channel.providerKey}`));
      const t = world.submitTemplate(channel.providerKey, sandboxDefinition(template));
      return Promise.resolve({ id: t.id, status: t.status, category: t.category });
    },

    /** TPL-9: an edit goes back to review, keeping the template's id. */
    editTemplate(channel: ChannelAddress, _id: string, template: ProviderTemplateDefinition) {
      if (!world.template(channel.providerKey, template.name, template.language))
        return Promise.reject(
          new Error(`sandbox: no template ${template.name} (${template.language})`),
        );
      const t = world.submitTemplate(channel.providerKey, sandboxDefinition(template));
      return Promise.resolve({ status: t.status, category: t.category });
    },

    async deleteTemplate(channel: ChannelAddress, target: { name: string; hsmId?: string }) {
      for (const t of world.templates(channel.providerKey))
        if (t.name === target.name && (target.hsmId === undefined || t.id === target.hsmId))
          await world.setTemplateStatus(channel.providerKey, t.name, t.language, 'DELETED', {
            notify: false,
          });
    },
  };
}

/** A creation request as the world's template book keeps it (Meta's shape, unchecked here). */
function sandboxDefinition(template: ProviderTemplateDefinition): TemplateDefinition {
  return {
    name: template.name,
    language: template.language,
    category: template.category.toUpperCase() as TemplateDefinition['category'],
    components: template.components as TemplateDefinition['components'],
    ...(template.parameter_format === 'NAMED' || template.parameter_format === 'POSITIONAL'
      ? { parameter_format: template.parameter_format }
      : {}),
  };
}
