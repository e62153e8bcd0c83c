// Configuration: embedded defaults, overridden by PARLEY_* environment variables and an optional
// YAML config file (PARLEY_CONFIG) whose `${ENV}` references are expanded.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { businessCalendarSchema, flowDefinitionSchema } from './automation/flow-schema.ts';

const declaredChannel = z.object({
  name: z.string().min(1),
  providerKey: z.string().min(1),
  phoneNumber: z.string().regex(/^\+?\d{6,15}$/),
  wabaId: z.string().optional(),
  throughputMps: z.number().int().positive().optional(),
  environment: z.enum(['production', 'staging', 'test']).optional(),
  allowList: z.array(z.string()).optional(),
  /** Weekly hours and holidays that `outside_hours` automation triggers read. */
  businessHours: businessCalendarSchema.optional(),
});

const declaredConnection = z.object({
  name: z.string().min(1),
  provider: z.enum(['sandbox', 'meta', '360dialog', 'cloud', 'twilio']),
  config: z.record(z.string(), z.unknown()).optional(),
  secrets: z.record(z.string(), z.string()).optional(),
  channels: z.array(declaredChannel).optional(),
});

/** Templates as code: a folder (or file) of template files, or definitions in Meta's shape. */
const declaredTemplates = z.union([z.string().min(1), z.array(z.record(z.string(), z.unknown()))]);

/** Inbox agents of a declared deployment: created when absent (matched by email), never overwritten. */
const declaredAgent = z
  .object({
    email: z.email(),
    name: z.string().min(1),
    role: z.enum(['admin', 'agent']).default('agent'),
    /** The first password; the agent changes it with a password reset. */
    password: z.string().min(10),
  })
  .strict();

const declaredWorkspace = z.object({
  name: z.string().min(1),
  apiKeys: z.array(z.string().min(16)).optional(),
  agents: z.array(declaredAgent).optional(),
  connections: z.array(declaredConnection).optional(),
  templates: declaredTemplates.optional(),
  /** Chatbot flows; `channels` may name a channel by id, name, provider key or phone number. */
  automations: z.array(flowDefinitionSchema).optional(),
});

export const configFileSchema = z
  .object({
    workspaces: z.array(declaredWorkspace).optional(),
  })
  .strict();
export type ConfigFile = z.infer<typeof configFileSchema>;
export type DeclaredWorkspace = z.infer<typeof declaredWorkspace>;

export interface ParleyConfig {
  port: number;
  host: string;
  dataDir: string;
  /** `postgres://…`, or undefined for the embedded SQLite file in the data dir. */
  databaseUrl: string | undefined;
  sqliteFile: string;
  /** Shared pacing buckets and live events for several nodes (`redis://…`). */
  redisUrl: string | undefined;
  /** Namespaces Parley's Redis keys and channels (several deployments on one Redis). */
  redisPrefix: string;
  publicUrl: string;
  secretKey: string | undefined;
  adminApiKey: string | undefined;
  configPath: string | undefined;
  file: ConfigFile;
  logLevel: string;
  /** Largest accepted request body, bytes (webhooks and API). */
  bodyLimit: number;
  /**
   * How long a node's claim on a queued send lasts: after a node dies, the sends it held wait
   * this long before another node takes them over.
   */
  dispatchLeaseMs: number;
  /** How long before a care window ends `window.closing` is sent. */
  windowClosingLeadMs: number;
  /** Recorded events (and their finished deliveries) are kept this long for replay. */
  eventRetentionMs: number;
  /** Uploaded media no message used is deleted this long after its upload. */
  uploadRetentionMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Replaces `${NAME}` with the environment's value; a missing variable is an error, not an empty string. */
function expandEnv(text: string, env: NodeJS.ProcessEnv, path: string): string {
  return text.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
    const value = env[name];
    if (value === undefined)
      throw new ConfigError(`${path}: \${${name}} is not set in the environment`);
    return value;
  });
}

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = parseYaml(expandEnv(text, env, path)) ?? {};
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${path} is not valid YAML: ${(error as Error).message}`);
  }
  const parsed = configFileSchema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`${path} is invalid:\n  ${issues.join('\n  ')}`);
  }
  // A templates folder is relative to the config file, wherever Parley is started from.
  for (const w of parsed.data.workspaces ?? [])
    if (typeof w.templates === 'string') w.templates = resolve(dirname(path), w.templates);
  return parsed.data;
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ParleyConfig {
  const dataDir = resolve(env.PARLEY_DATA_DIR ?? '.parley');
  const port = intFromEnv(env, 'PARLEY_PORT', 8080);
  const host = env.PARLEY_HOST ?? '127.0.0.1';
  const databaseUrl = env.PARLEY_DATABASE_URL || undefined;
  if (databaseUrl && !/^(postgres|postgresql|sqlite|file):/.test(databaseUrl))
    throw new ConfigError(
      'PARLEY_DATABASE_URL must be postgres://… (or sqlite:PATH for a SQLite file)',
    );
  const sqliteFile =
    databaseUrl?.startsWith('sqlite:') || databaseUrl?.startsWith('file:')
      ? resolve(databaseUrl.replace(/^(sqlite|file):(\/\/)?/, ''))
      : resolve(dataDir, 'parley.db');
  const configPath = env.PARLEY_CONFIG || undefined;
  const redisUrl = env.PARLEY_REDIS_URL || undefined;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl))
    throw new ConfigError('PARLEY_REDIS_URL must be redis://… or rediss://…');
  return {
    port,
    host,
    dataDir,
    databaseUrl: databaseUrl && /^postgres/.test(databaseUrl) ? databaseUrl : undefined,
    sqliteFile,
    redisUrl,
    redisPrefix: env.PARLEY_REDIS_PREFIX || 'parley:',
    publicUrl: (env.PARLEY_PUBLIC_URL || `http://${host}:${port}`).replace(/\/$/, ''),
    secretKey: env.PARLEY_SECRET_KEY || undefined,
    adminApiKey: env.PARLEY_ADMIN_API_KEY || undefined,
    configPath,
    file: configPath ? loadConfigFile(configPath, env) : {},
    logLevel: env.PARLEY_LOG_LEVEL ?? 'info',
    bodyLimit: intFromEnv(env, 'PARLEY_BODY_LIMIT', 1024 * 1024),
    dispatchLeaseMs: Math.max(1_000, intFromEnv(env, 'PARLEY_DISPATCH_LEASE_MS', 5 * 60_000)),
    windowClosingLeadMs: intFromEnv(env, 'PARLEY_WINDOW_CLOSING_LEAD_MINUTES', 60) * 60_000,
    eventRetentionMs: Math.max(1, intFromEnv(env, 'PARLEY_EVENT_RETENTION_DAYS', 30)) * 86_400_000,
    uploadRetentionMs:
      Math.max(1, intFromEnv(env, 'PARLEY_UPLOAD_RETENTION_DAYS', 30)) * 86_400_000,
  };
}

/** True when nothing was configured: the only case in which `start` seeds demo data by itself. */
export function isUnconfigured(config: ParleyConfig): boolean {
  return (
    config.databaseUrl === undefined &&
    config.configPath === undefined &&
    config.adminApiKey === undefined
  );
}
