import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { isPostgresUrl } from '@dcm/persistence';
import { AuditKey, parseAuditKey } from '../config/audit-keys';
import type { ControlConfig } from '../config/control-config';
import type { VerifyingKeys } from './audit-chain';

/**
 * The audit chain's keys: the current one signs new events; the older ones (DCM_AUDIT_KEYRING, oldest first) only
 * verify, and their order is the rotation order that verification holds the events to.
 */
export class AuditKeyring implements VerifyingKeys {
  private readonly keys: Map<string, { secret: string; rank: number }>;

  constructor(
    readonly current: AuditKey,
    older: readonly AuditKey[] = [],
  ) {
    this.keys = new Map([...older, current].map((key, rank) => [key.id, { secret: key.secret, rank }]));
  }

  secretOf(keyId: string): string | undefined {
    return this.keys.get(keyId)?.secret;
  }

  rankOf(keyId: string): number | undefined {
    return this.keys.get(keyId)?.rank;
  }

  /**
   * DCM_AUDIT_KEY, or on SQLite the key in <dataDir>/audit.key, generated (0600) at the first start without one. The
   * configuration refuses PostgreSQL without DCM_AUDIT_KEY: replicas must share one key.
   */
  static fromConfig(config: ControlConfig): AuditKeyring {
    if (config.auditKey) return new AuditKeyring(config.auditKey, config.auditKeyring);
    if (isPostgresUrl(config.databaseUrl)) throw new Error('DCM_AUDIT_KEY is required with PostgreSQL');
    return new AuditKeyring(keyFile(config.dataDir), config.auditKeyring);
  }
}

function keyFile(dataDir: string): AuditKey {
  const path = resolve(join(dataDir, 'audit.key'));
  if (existsSync(path)) {
    const key = parseAuditKey(readFileSync(path, 'utf8').trim());
    if (typeof key === 'string') throw new Error(`${path}: ${key}`);
    return key;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('base64');
  writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600); // the mode option is filtered by the umask
  // Info, as the bootstrap token's notice: a first start is normal, and a clean start prints nothing above info.
  new Logger(AuditKeyring.name).log(`audit key generated in ${path} (mode 0600): back it up apart from the database, see the README`);
  return parseAuditKey(secret) as AuditKey;
}
