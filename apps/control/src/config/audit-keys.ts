import { createHash } from 'node:crypto';

/** One key of the audit chain's HMAC: `id` is stored with every event it signs, so that verification finds it again. */
export interface AuditKey {
  id: string;
  secret: string;
}

export const AUDIT_KEY_MIN_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,32}$/;
const HEX = /^[0-9a-fA-F]+$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** The id of a key given without one: derived from the secret, so that every replica and restart names it the same. */
export function auditKeyId(secret: string): string {
  return createHash('sha256').update(`dcm-audit-key-id\n${secret}`).digest('hex').slice(0, 12);
}

/** How many random bytes a secret written as hex or base64 holds. */
function secretBytes(secret: string): number {
  if (HEX.test(secret)) return Math.floor(secret.length / 2);
  if (BASE64.test(secret)) return Math.floor((secret.replace(/=+$/, '').length * 6) / 8);
  return 0;
}

/** `<secret>` or `<id>:<secret>`; the secret is at least 32 random bytes written as hex or base64. A string is an error. */
export function parseAuditKey(text: string): AuditKey | string {
  const colon = text.indexOf(':');
  const id = colon < 0 ? null : text.slice(0, colon);
  const secret = (colon < 0 ? text : text.slice(colon + 1)).trim();
  if (id !== null && !KEY_ID.test(id)) return `the key id before ":" must be 1-32 letters, digits, ".", "_" or "-"`;
  if (secretBytes(secret) < AUDIT_KEY_MIN_BYTES) {
    return `must be [<id>:]<secret>, the secret at least ${AUDIT_KEY_MIN_BYTES} random bytes as hex (64 characters) or base64 (44), e.g. from "openssl rand -base64 32"`;
  }
  return { id: id ?? auditKeyId(secret), secret };
}
