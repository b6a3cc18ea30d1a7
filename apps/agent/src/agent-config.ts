import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { HOST_NAME_PATTERN, parseAmount, SLUG_PATTERN } from '@dcm/domain';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const byteAmount = z.union([z.number(), z.string()]).transform((value, context) => {
  const parsed = parseAmount(value, 'bytes');
  if (!parsed.ok) {
    context.addIssue({ code: 'custom', message: parsed.reason });
    return z.NEVER;
  }
  return parsed.value;
});

/** Below this the spool could not hold even a short outage's reports. */
const MIN_SPOOL_BYTES = 64 * 1024;

const absolutePath = z.string().regex(/^\//, 'must be an absolute path');

/**
 * `tls.caFile`: the CA certificates (PEM) that control's certificate must chain to, read once at start so that a
 * missing or garbled file stops the start rather than failing every send. Without it, Node's built-in public CAs.
 */
const tls = z
  .object({ caFile: z.string().min(1).optional() })
  .strict()
  .default({})
  .transform(({ caFile }, context) => {
    if (caFile === undefined) return null;
    const path = resolve(caFile);
    try {
      const ca = readFileSync(path, 'utf8');
      if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no "BEGIN CERTIFICATE" block');
      new X509Certificate(ca); // throws when the first certificate does not parse
      return { caFile: path, ca };
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      context.addIssue({ code: 'custom', path: ['caFile'], message: `cannot use ${path} as CA certificates (PEM): ${reason}` });
      return z.NEVER;
    }
  });

const schema = z
  .object({
    controlUrl: z.url({ protocol: /^https?$/ }),
    joinToken: z.string().min(20).max(200).optional(),
    dataDir: z
      .string()
      .min(1)
      .default('/var/lib/dcm-agent')
      .transform((path) => resolve(path)),
    hostname: z
      .string()
      .regex(HOST_NAME_PATTERN, 'must be 1–63 characters of a-z, 0-9, ".", "_" and "-"')
      .default(() => hostname().toLowerCase().split('.')[0]),
    intervalSeconds: z.number().int().min(1).max(3600).default(15),
    storageMounts: z.array(absolutePath).max(64).default(['/']),
    spool: z
      .object({ maxBytes: byteAmount.default(64 * 2 ** 20).refine((bytes) => bytes >= MIN_SPOOL_BYTES, 'must be at least 64KiB') })
      .strict()
      .default({ maxBytes: 64 * 2 ** 20 }),
    tls,
    allowInsecureHttp: z.boolean().default(false),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    tenants: z
      .record(
        z.string().regex(SLUG_PATTERN, 'tenant keys are tenant slugs'),
        z.object({ mounts: z.array(absolutePath).max(64).default([]), cgroups: z.array(absolutePath).max(64).default([]) }).strict(),
      )
      .default({}),
  })
  .strict()
  .refine((config) => config.tls === null || new URL(config.controlUrl).protocol === 'https:', {
    path: ['tls', 'caFile'],
    message: 'is set, but controlUrl is not https://: reports and the join token would cross the network unencrypted',
  })
  .refine((config) => config.allowInsecureHttp || !isPlainHttpOffLoopback(config.controlUrl), {
    path: ['controlUrl'],
    message:
      'is plain http:// to a host that is not this machine (loopback): the join token, the agent token and the reports would cross the network unencrypted, and anyone on the path could answer for control. Use https://, or set allowInsecureHttp: true',
  });

/** http:// to anything but 127.0.0.0/8, [::1] or localhost. */
function isPlainHttpOffLoopback(controlUrl: string): boolean {
  const { protocol, hostname } = new URL(controlUrl);
  if (protocol !== 'http:') return false;
  const loopback = hostname === 'localhost' || hostname.endsWith('.localhost') || hostname === '[::1]' || (isIPv4(hostname) && hostname.startsWith('127.'));
  return !loopback;
}

export type AgentConfig = z.infer<typeof schema>;

export class AgentConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid agent configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

/** Validates settings; throws one error naming every bad setting. */
export function agentConfig(settings: unknown): AgentConfig {
  const result = schema.safeParse(settings ?? {});
  if (result.success) return result.data;
  throw new AgentConfigError(
    result.error.issues.map((issue) => `${issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '(root)')}: ${issue.message}`),
  );
}

/** Reads the agent's YAML configuration file (--config). */
export function loadAgentConfig(path: string): AgentConfig {
  let settings: unknown;
  try {
    settings = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new AgentConfigError([`${path}: ${(error as Error).message}`]);
  }
  return agentConfig(settings);
}
