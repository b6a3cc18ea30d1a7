import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ADVISORY_LOCKS, isPostgresUrl, SHARED_SETTING_LOCKS } from '@dcm/persistence';
import { Client } from 'pg';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';

/** A setting every replica of one facility must share, named as its environment variable. */
export type SharedSettingName = keyof typeof SHARED_SETTING_LOCKS;

/**
 * What a replica shows the others of a setting: 31 bits of a hash, from which nothing of a secret can be learned, but
 * two different values differ (but for one chance in 2^31).
 */
function fingerprint(name: SharedSettingName, value: string): number {
  return createHash('sha256').update(`dcm shared setting\n${name}\n${value}`).digest().readUInt32BE(0) & 0x7fffffff;
}

/**
 * The fingerprints of the settings replicas must share: the audit key that signs new events (two keys at once would
 * interleave, and verification holds events to the keys' rotation order), the trusted proxies (rate limits and logs
 * must see the same client on every replica) and the console's session key (a session sealed by one replica must open
 * on the others; unset, it is derived from the audit key, compared already).
 */
export function sharedSettingsOf(config: ControlConfig): Record<SharedSettingName, number> {
  return {
    DCM_AUDIT_KEY: fingerprint('DCM_AUDIT_KEY', config.auditKey ? `${config.auditKey.id}:${config.auditKey.secret}` : ''),
    DCM_TRUSTED_PROXIES: fingerprint('DCM_TRUSTED_PROXIES', [...config.trustedProxies].sort().join(',')),
    DCM_CONSOLE_SESSION_KEY: fingerprint('DCM_CONSOLE_SESSION_KEY', config.consoleSessionKey ?? '(derived from DCM_AUDIT_KEY)'),
  };
}

const RETRY_MS = 5_000;

/**
 * On PostgreSQL, refuses to start a replica whose shared settings (sharedSettingsOf) differ from those of a replica
 * running on the same database: it would sign audit events with another key, or see clients at other addresses.
 * Each running replica holds, on a connection of its own, a shared advisory lock per setting whose second key is the
 * setting's fingerprint, so PostgreSQL itself lists the running replicas' fingerprints (pg_locks) and forgets a
 * replica's as soon as its session ends, killed or not. A starting replica compares and takes its locks in one
 * transaction under an exclusive lock, so that two replicas starting together cannot both pass with different values.
 * Changing one of these settings means stopping every replica, then starting them with the new value.
 */
@Injectable()
export class SharedSettingsGuard implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SharedSettingsGuard.name);
  private readonly settings: Record<SharedSettingName, number>;
  private client: Client | null = null;
  private retry: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(@Inject(CONTROL_CONFIG) private readonly config: ControlConfig) {
    this.settings = sharedSettingsOf(config);
  }

  async onModuleInit(): Promise<void> {
    if (!isPostgresUrl(this.config.databaseUrl)) return; // one process on SQLite: nothing to share
    const differing = await this.hold();
    if (differing.length > 0) {
      throw new Error(
        `${differing.join(' and ')} ${differing.length > 1 ? 'differ' : 'differs'} from ${differing.length > 1 ? 'those' : 'the one'} of the replicas running on this database: every replica must share ${differing.length > 1 ? 'them' : 'it'} (to change one, stop every replica, then start them all with the new value)`,
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.drop();
  }

  /** Compares with the running replicas' and, unless some differ (returned), holds this replica's fingerprints. */
  private async hold(): Promise<SharedSettingName[]> {
    const client = new Client({
      connectionString: this.config.databaseUrl,
      application_name: `dcm-settings ${hostname()}/${process.pid}`.slice(0, 63),
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
    });
    client.on('error', (error) => this.lost(client, error.message));
    client.on('end', () => this.lost(client, 'the connection closed'));
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.sharedSettingsCheck]);
      const names = Object.keys(SHARED_SETTING_LOCKS) as SharedSettingName[];
      const { rows } = await client.query<{ classid: number; objid: string }>(
        `SELECT classid::int AS classid, objid::text AS objid FROM pg_locks
          WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid::int = ANY($1::int[])
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        [names.map((name) => SHARED_SETTING_LOCKS[name])],
      );
      const differing = names.filter((name) => rows.some((row) => row.classid === SHARED_SETTING_LOCKS[name] && Number(row.objid) !== this.settings[name]));
      if (differing.length === 0) {
        for (const name of names) await client.query('SELECT pg_advisory_lock_shared($1, $2)', [SHARED_SETTING_LOCKS[name], this.settings[name]]);
      }
      await client.query('COMMIT');
      if (differing.length > 0) await client.end();
      else this.client = client;
      return differing;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  /** The connection went: the fingerprints went with it. Taken again (compared again) until it works. */
  private lost(client: Client, reason: string): void {
    if (this.client !== client) return;
    this.client = null;
    void client.end().catch(() => undefined);
    if (this.stopped) return;
    this.logger.warn(`the connection holding this replica's shared-settings fingerprints was lost (${reason}); taking them again`);
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.stopped) return;
      this.hold().then(
        (differing) => {
          if (differing.length > 0) this.logger.error(`${differing.join(' and ')}: another replica runs with a different value; every replica must share it`);
        },
        () => this.scheduleRetry(),
      );
    }, RETRY_MS);
    this.retry.unref();
  }

  private async drop(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => undefined);
  }
}
