import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { isValidResourceClassName } from '@dcm/domain';
import { isPostgresUrl } from '@dcm/persistence';
import { z } from 'zod';
import { AuditKey, parseAuditKey } from './audit-keys';
import { isProxyAddress } from './proxy-address';
import { readTlsCredentials, TlsCredentials } from './tls-credentials';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Environment variables that override the YAML file named by DCM_CONFIG, and the setting each one sets. */
export const ENVIRONMENT_VARIABLES = {
  DCM_HOST: 'host',
  DCM_PORT: 'port',
  DCM_TLS_CERT_FILE: 'tlsCertFile',
  DCM_TLS_KEY_FILE: 'tlsKeyFile',
  DCM_DATA_DIR: 'dataDir',
  DCM_DATABASE_URL: 'databaseUrl',
  DCM_ADMIN_TOKEN: 'adminToken',
  DCM_REPORT_INTERVAL_S: 'reportIntervalSeconds',
  DCM_REPORT_MAX_AHEAD_S: 'reportMaxAheadSeconds',
  DCM_REPORT_MAX_BEHIND_S: 'reportMaxBehindSeconds',
  DCM_LOG_LEVEL: 'logLevel',
  DCM_PLACEMENT_STRATEGY: 'placementStrategy',
  DCM_SQLITE_SYNCHRONOUS: 'sqliteSynchronous',
  DCM_BODY_LIMIT_BYTES: 'bodyLimitBytes',
  DCM_METRICS_TOKEN: 'metricsToken',
  DCM_ENFORCEMENT_INTERVAL_S: 'enforcementIntervalSeconds',
  DCM_QUOTA_WARNING_RATIO: 'quotaWarningRatio',
  DCM_FREEZE_GRACE_S: 'freezeGraceSeconds',
  DCM_WEBHOOK_URL: 'webhookUrl',
  DCM_SAMPLE_RAW_DAYS: 'sampleRawDays',
  DCM_SAMPLE_RETENTION_DAYS: 'sampleRetentionDays',
  DCM_FORECAST_WINDOW_DAYS: 'forecastWindowDays',
  DCM_LEADER_INTERVAL_S: 'leaderIntervalSeconds',
  DCM_RATE_LIMIT_PER_MINUTE: 'rateLimitPerMinute',
  DCM_AUDIT_RETENTION_DAYS: 'auditRetentionDays',
  DCM_AUDIT_KEY: 'auditKey',
  DCM_AUDIT_KEYRING: 'auditKeyring',
  DCM_REQUEST_TIMEOUT_S: 'requestTimeoutSeconds',
  DCM_TRUSTED_PROXIES: 'trustedProxies',
  DCM_CONSOLE_SESSION_KEY: 'consoleSessionKey',
  DCM_CONSOLE_SESSION_HOURS: 'consoleSessionHours',
} as const;

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * YAML only (a map has no environment variable): `{ currency: GBP, vcpu: 0.02, memory: 0.005 }`, a price per unit-hour
 * of each class, where the unit of a byte class (memory, storage, a custom class in bytes) is the GiB.
 */
const showbackPrices = z
  .object({
    currency: z.string({ error: 'is required: an ISO 4217 currency code such as GBP' }).regex(/^[A-Z]{3}$/, 'must be an ISO 4217 currency code such as GBP'),
  })
  .catchall(z.number({ error: 'must be a price per unit-hour: a number, at least 0' }).nonnegative().finite())
  .superRefine((prices, context) => {
    const classes = Object.keys(prices).filter((key) => key !== 'currency');
    for (const name of classes.filter((name) => !isValidResourceClassName(name))) {
      context.addIssue({ code: 'custom', path: [name], message: 'is not a resource class: vcpu, memory, storage or custom_<name>' });
    }
    if (classes.length === 0) context.addIssue({ code: 'custom', message: 'must price at least one resource class, e.g. vcpu: 0.02' });
  })
  .transform(({ currency, ...perUnitHour }) => ({ currency, perUnitHour: perUnitHour as Record<string, number> }));

const auditKey = z.string().transform((text, context): AuditKey => {
  const key = parseAuditKey(text);
  if (typeof key === 'string') context.addIssue({ code: 'custom', message: key });
  return key as AuditKey;
});

/** Older keys, for verifying only: a list in YAML, or separated by commas or spaces in DCM_AUDIT_KEYRING. */
const auditKeyring = z.union([z.string().transform((text) => text.split(/[\s,]+/).filter((part) => part !== '')), z.array(z.string())]).pipe(z.array(auditKey));

export type ShowbackPrices = z.output<typeof showbackPrices>;

const schema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: integer(0, 65535).default(3000),
    tlsCertFile: z.string().min(1).optional(),
    tlsKeyFile: z.string().min(1).optional(),
    dataDir: z.string().min(1).default('./data'),
    databaseUrl: z
      .string()
      .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'must be sqlite:<path> or postgres://user@host:5432/db')
      .optional(),
    adminToken: z.string().min(20, 'must be at least 20 characters').max(200).optional(),
    reportIntervalSeconds: integer(1, 3600).default(15),
    /** A report collected later than this past control's clock, or earlier than this before it, is refused. */
    reportMaxAheadSeconds: integer(0, 86_400).default(120),
    reportMaxBehindSeconds: integer(60, 400 * 86_400).default(7 * 86_400),
    logLevel: z.enum(LOG_LEVELS).default('info'),
    placementStrategy: z.enum(['spread', 'pack']).default('spread'),
    sqliteSynchronous: z.enum(['normal', 'full']).default('normal'),
    bodyLimitBytes: integer(1024, 64 * 1024 * 1024).default(1024 * 1024),
    metricsToken: z.string().min(16, 'must be at least 16 characters').max(200).optional(),
    enforcementIntervalSeconds: integer(1, 3600).default(60),
    quotaWarningRatio: z.coerce.number().gt(0).max(1).default(0.9),
    freezeGraceSeconds: integer(0, 7 * 86_400).default(900),
    webhookUrl: z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
      .refine(credentialsDecode, 'its user:password@ is not valid percent-encoding (write a % in them as %25)')
      .optional(),
    sampleRawDays: integer(1, 90).default(7),
    sampleRetentionDays: integer(2, 10 * 366).default(400),
    forecastWindowDays: integer(1, 366).default(30),
    leaderIntervalSeconds: integer(1, 300).default(5),
    /** Requests a minute per bearer token (per client address without one); 0 turns the limit off. */
    rateLimitPerMinute: integer(0, 10_000_000).default(1200),
    /** How long a client has to send a whole request, headers and body; a slower one is cut off (408). */
    requestTimeoutSeconds: integer(1, 300).default(30),
    /**
     * Peers (addresses, CIDRs) whose X-Forwarded-For names the client; a comma-separated list in DCM_TRUSTED_PROXIES.
     * None by default: the socket's peer is the client.
     */
    trustedProxies: z
      .preprocess(
        (value) => (typeof value === 'string' ? value.split(',').map((entry) => entry.trim()) : value),
        z.array(z.string().refine(isProxyAddress, { error: (issue) => `${String(issue.input)} is not an IP address or CIDR` })),
      )
      .default([]),
    /** Unset: audit events are kept for ever. */
    auditRetentionDays: integer(1, 100 * 366).optional(),
    showbackPrices: showbackPrices.optional(),
    /** The current key of the audit chain's HMAC; unset on SQLite: generated into <dataDir>/audit.key. */
    auditKey: auditKey.optional(),
    auditKeyring: auditKeyring.default([]),
    /**
     * The key of the console's sealed session cookie, the same on every replica; unset, it is derived from the audit key
     * (which every replica already shares), so that changing either signs everyone out.
     */
    consoleSessionKey: z.string().min(32, 'must be at least 32 characters of random text, e.g. from openssl rand -hex 32').max(512).optional(),
    /** How long a console sign-in lasts, in hours, whatever is done meanwhile. */
    consoleSessionHours: integer(1, 24).default(8),
  })
  .strict()
  .refine((config) => config.auditKey !== undefined || !isPostgresUrl(config.databaseUrl ?? ''), {
    path: ['auditKey'],
    message: 'is required with PostgreSQL (DCM_DATABASE_URL): every replica must sign the audit log with the same key, kept outside the database',
  })
  .refine(
    (config) => {
      const ids = [...(config.auditKey ? [config.auditKey.id] : []), ...config.auditKeyring.map((key) => key.id)];
      return new Set(ids).size === ids.length;
    },
    { path: ['auditKeyring'], message: 'names a key id twice (DCM_AUDIT_KEY included): give each key its own id' },
  )
  .refine((config) => config.sampleRetentionDays > config.sampleRawDays, {
    path: ['sampleRetentionDays'],
    message: 'must be longer than sampleRawDays (DCM_SAMPLE_RAW_DAYS)',
  })
  .refine((config) => config.tlsCertFile === undefined || config.tlsKeyFile !== undefined, {
    path: ['tlsKeyFile'],
    message: 'must be set with tlsCertFile (DCM_TLS_CERT_FILE): HTTPS needs the certificate and its private key',
  })
  .refine((config) => config.tlsKeyFile === undefined || config.tlsCertFile !== undefined, {
    path: ['tlsCertFile'],
    message: 'must be set with tlsKeyFile (DCM_TLS_KEY_FILE): HTTPS needs the certificate and its private key',
  });

/**
 * `tls`: the certificate and key read from tlsCertFile and tlsKeyFile, when control serves HTTPS. `webhookUrl` never
 * holds credentials: a `user:pass@` in the setting becomes `webhookAuthorization` (an Authorization: Basic value).
 */
export type ControlConfig = z.infer<typeof schema> & { databaseUrl: string; tls: TlsCredentials | null; webhookAuthorization: string | null };

export const CONTROL_CONFIG = Symbol('ControlConfig');

export class ConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

const settingNames = Object.fromEntries(Object.entries(ENVIRONMENT_VARIABLES).map(([variable, key]) => [key, variable]));

/** Validates settings gathered from YAML and the environment; throws one error naming every bad setting. */
export function controlConfig(settings: Record<string, unknown> = {}): ControlConfig {
  const result = schema.safeParse(settings);
  if (!result.success) {
    throw new ConfigurationError(
      result.error.issues.map((issue) => {
        const key = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '(root)');
        const variable = settingNames[key] ?? settingNames[String(issue.path[0])];
        return `${variable ? `${variable} (${key})` : key}: ${issue.message}`;
      }),
    );
  }
  const config = result.data;
  const tls = config.tlsCertFile && config.tlsKeyFile ? readTlsCredentials(config.tlsCertFile, config.tlsKeyFile) : null;
  if (tls && !tls.ok) throw new ConfigurationError(tls.problems.map(({ setting, message }) => `${settingNames[setting]} (${setting}): ${message}`));
  return {
    ...config,
    ...webhookCredentials(config.webhookUrl),
    databaseUrl: config.databaseUrl ?? `sqlite:${join(config.dataDir, 'dcm.sqlite')}`,
    tls: tls?.credentials ?? null,
  };
}

/** Whether a URL's `user:pass@` (which webhookCredentials decodes) is valid percent-encoding: a stray `%` is not. */
function credentialsDecode(setting: string): boolean {
  if (!URL.canParse(setting)) return true; // not a URL: the URL check says so
  const url = new URL(setting);
  try {
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
    return true;
  } catch {
    return false;
  }
}

/** Moves a webhook URL's `user:pass@` into an Authorization: Basic value, so that the URL can be logged and stored. */
function webhookCredentials(setting: string | undefined): { webhookUrl: string | undefined; webhookAuthorization: string | null } {
  if (setting === undefined) return { webhookUrl: undefined, webhookAuthorization: null };
  const url = new URL(setting);
  if (url.username === '' && url.password === '') return { webhookUrl: setting, webhookAuthorization: null };
  const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  url.username = '';
  url.password = '';
  return { webhookUrl: url.href, webhookAuthorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}` };
}

/** Reads DCM_CONFIG (optional YAML) and DCM_* environment variables, which win. Called once, in main. */
export function loadControlConfig(env: NodeJS.ProcessEnv): ControlConfig {
  let fromFile: Record<string, unknown> = {};
  if (env.DCM_CONFIG) {
    try {
      fromFile = (parseYaml(readFileSync(env.DCM_CONFIG, 'utf8')) as Record<string, unknown> | null) ?? {};
    } catch (error) {
      throw new ConfigurationError([`DCM_CONFIG (${env.DCM_CONFIG}): ${(error as Error).message}`]);
    }
    if (typeof fromFile !== 'object' || Array.isArray(fromFile)) {
      throw new ConfigurationError([`DCM_CONFIG (${env.DCM_CONFIG}): must be a YAML mapping of settings`]);
    }
  }
  const fromEnv = Object.fromEntries(
    Object.entries(ENVIRONMENT_VARIABLES)
      .filter(([variable]) => env[variable] !== undefined && env[variable] !== '')
      .map(([variable, key]) => [key, env[variable]]),
  );
  return controlConfig({ ...fromFile, ...fromEnv });
}
