import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TrustedCa } from './api-client';
import { parse, stringify } from 'yaml';

/** What the CLI needs to talk to control; `caFile`: the CA certificates (PEM) control's certificate must chain to. */
export interface Credentials {
  url: string;
  token: string;
  caFile?: string;
}

/** The environment variables the CLI reads; main passes process.env once. */
export interface CliEnvironment {
  DCM_URL?: string;
  DCM_TOKEN?: string;
  DCM_CA_FILE?: string;
  XDG_CONFIG_HOME?: string;
}

/** The CLI cannot run as asked (bad arguments, no login): exits 2. */
export class UsageError extends Error {}

/** The command was understood but did not succeed, for a reason the message gives: exits 1. */
export class CommandFailed extends Error {}

export function configPath(env: CliEnvironment): string {
  // An empty or relative XDG_CONFIG_HOME is invalid by the XDG spec and must be ignored.
  const base = env.XDG_CONFIG_HOME?.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'dcm', 'config.yaml');
}

export function readSavedCredentials(path: string): Partial<Credentials> {
  if (!existsSync(path)) return {};
  let saved: unknown;
  try {
    saved = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`${path} is not valid YAML (${(error as Error).message}); run "dcm login" again`);
  }
  if (saved === null || saved === undefined) return {};
  if (typeof saved !== 'object') throw new UsageError(`${path} should be a mapping with url and token; run "dcm login" again`);
  const { url, token, caFile } = saved as Record<string, unknown>;
  return { ...(typeof url === 'string' ? { url } : {}), ...(typeof token === 'string' ? { token } : {}), ...(typeof caFile === 'string' ? { caFile } : {}) };
}

/** DCM_URL, DCM_TOKEN and DCM_CA_FILE win over the saved login, each on its own. */
export function resolveCredentials(env: CliEnvironment): Credentials {
  const path = configPath(env);
  const saved = readSavedCredentials(path);
  const url = env.DCM_URL || saved.url;
  const token = env.DCM_TOKEN || saved.token;
  if (!url || !token) {
    throw new UsageError(`not logged in: run "dcm login --url URL --token TOKEN" (or set DCM_URL and DCM_TOKEN); looked in ${path}`);
  }
  const caFile = env.DCM_CA_FILE || saved.caFile;
  return { url, token, ...(caFile ? { caFile } : {}) };
}

/** Reads the CA file for an https URL (it is no use to http): a missing or garbled file is a usage error, not a TLS failure. */
export function trustedCa(url: string, caFile: string | undefined): TrustedCa | undefined {
  if (!caFile || !url.startsWith('https:')) return undefined;
  let ca: string;
  try {
    ca = readFileSync(caFile, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the CA file ${caFile} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`the CA file ${caFile} holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`);
  return { caFile, ca };
}

/** Writes the login so that only its owner can read it: directory 0700, file 0600, replaced atomically. */
export function saveCredentials(path: string, credentials: Credentials): void {
  const directory = dirname(path);
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  chmodSync(directory, 0o700);
  const partial = `${path}.${process.pid}.tmp`;
  const { url, token, caFile } = credentials;
  writeFileSync(partial, stringify({ url, token, ...(caFile ? { caFile } : {}) }), { mode: 0o600 });
  chmodSync(partial, 0o600); // the umask may have narrowed it, never widened; make it exact
  renameSync(partial, path);
}

/** Removes the saved login; says whether there was one. */
export function removeCredentials(path: string): boolean {
  if (!existsSync(path)) return false;
  rmSync(path);
  return true;
}
