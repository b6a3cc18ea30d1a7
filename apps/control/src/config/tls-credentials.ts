import { createPrivateKey, KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** What control serves HTTPS with: a PEM certificate (the server's first, then any intermediates) and its private key. */
export interface TlsCredentials {
  cert: string;
  key: string;
  /** When the server's certificate stops being valid. */
  validTo: Date;
}

/** Renew this long before a certificate expires: agents and the CLI refuse an expired one, and reports then only spool. */
const RENEW_WITHIN_MS = 14 * 86_400_000;

/** What to tell operators about the certificate's validity at start, or null when it is good for a while yet. */
export function certificateWarning(validTo: Date, now: Date): { level: 'error' | 'warn'; message: string } | null {
  const left = validTo.getTime() - now.getTime();
  if (left <= 0) {
    return { level: 'error', message: `the TLS certificate (tlsCertFile) expired at ${validTo.toISOString()}: agents and dcm refuse it; renew it` };
  }
  if (left <= RENEW_WITHIN_MS) {
    return {
      level: 'warn',
      message: `the TLS certificate (tlsCertFile) expires at ${validTo.toISOString()}, in ${Math.ceil(left / 86_400_000)} day(s): renew it`,
    };
  }
  return null;
}

export interface TlsProblem {
  setting: 'tlsCertFile' | 'tlsKeyFile';
  message: string;
}

export type TlsCredentialsResult = { ok: true; credentials: TlsCredentials } | { ok: false; problems: TlsProblem[] };

/**
 * Reads the certificate and key files and checks that they are PEM and belong together, so that a bad file stops the
 * start with the name of its setting instead of failing later, deep in the TLS stack, with an OpenSSL error.
 */
export function readTlsCredentials(certFile: string, keyFile: string): TlsCredentialsResult {
  const problems: TlsProblem[] = [];
  const cert = readPem(certFile, 'tlsCertFile', problems);
  const key = readPem(keyFile, 'tlsKeyFile', problems);
  let certificate: X509Certificate | null = null;
  let privateKey: KeyObject | null = null;
  if (cert !== null) {
    try {
      if (!cert.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no "BEGIN CERTIFICATE" block');
      certificate = new X509Certificate(cert);
    } catch (error) {
      problems.push({ setting: 'tlsCertFile', message: `${certFile} is not a PEM certificate (${(error as Error).message})` });
    }
  }
  if (key !== null) {
    try {
      privateKey = createPrivateKey(key);
    } catch (error) {
      problems.push({ setting: 'tlsKeyFile', message: `${keyFile} is not an unencrypted PEM private key (${(error as Error).message})` });
    }
  }
  if (certificate && privateKey && !certificate.checkPrivateKey(privateKey)) {
    problems.push({ setting: 'tlsKeyFile', message: `${keyFile} is not the private key of the certificate in ${certFile}` });
  }
  return problems.length > 0 || cert === null || key === null || certificate === null
    ? { ok: false, problems }
    : { ok: true, credentials: { cert, key, validTo: new Date(certificate.validTo) } };
}

function readPem(path: string, setting: TlsProblem['setting'], problems: TlsProblem[]): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    problems.push({ setting, message: `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` });
    return null;
  }
}
