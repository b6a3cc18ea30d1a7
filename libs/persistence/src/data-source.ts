import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AgentEntity } from './entities/agent.entity';
import { AllocationEntity, AllocationItemEntity } from './entities/allocation.entity';
import { CapacitySampleEntity, SchedulerWatermarkEntity, WebhookOutboxEntity } from './entities/history.entity';
import { HostEntity } from './entities/host.entity';
import { IdempotencyRecordEntity } from './entities/idempotency-record.entity';
import { InventoryEntity } from './entities/inventory.entity';
import { HostMeasurementEntity, HostSampleEntity, TenantSampleEntity } from './entities/measurement.entity';
import { QuotaEntity } from './entities/quota.entity';
import { ResourceClassEntity } from './entities/resource-class.entity';
import { TenantEntity } from './entities/tenant.entity';
import { TokenEntity } from './entities/token.entity';
import { AuditEventEntity } from './entities/audit-event.entity';
import { SurgeGrantEntity, SurgeGrantItemEntity } from './entities/surge-grant.entity';
import { InitialSchema1732262400000 } from './migrations/1732262400000-initial-schema';
import { AgentsAndMeasurements1732348800000 } from './migrations/1732348800000-agents-and-measurements';
import { QuotaStates1732435200000 } from './migrations/1732435200000-quota-states';
import { HistoryAndOutbox1732521600000 } from './migrations/1732521600000-history-and-outbox';
import { MeasurementDigest1732608000000 } from './migrations/1732608000000-measurement-digest';
import { AuditAndGrants1732694400000 } from './migrations/1732694400000-audit-and-grants';
import { InventoryVersions1732780800000 } from './migrations/1732780800000-inventory-versions';
import { AgentTrust1732867200000 } from './migrations/1732867200000-agent-trust';
import { HostOwnership1732953600000 } from './migrations/1732953600000-host-ownership';
import { AuditChainSealer, AuditKeys1733126400000 } from './migrations/1733126400000-audit-keys';
import { HostsSiteIndex1733212800000 } from './migrations/1733212800000-hosts-site-index';
import { AuditPending1733299200000 } from './migrations/1733299200000-audit-pending';
import { HotUpdates1733385600000 } from './migrations/1733385600000-hot-updates';
import { ADVISORY_LOCKS } from './advisory-locks';

export const ENTITIES = [
  ResourceClassEntity,
  TenantEntity,
  QuotaEntity,
  HostEntity,
  InventoryEntity,
  AllocationEntity,
  AllocationItemEntity,
  TokenEntity,
  IdempotencyRecordEntity,
  AgentEntity,
  HostMeasurementEntity,
  HostSampleEntity,
  TenantSampleEntity,
  CapacitySampleEntity,
  WebhookOutboxEntity,
  SchedulerWatermarkEntity,
  AuditEventEntity,
  SurgeGrantEntity,
  SurgeGrantItemEntity,
];

/** Every schema change is a migration listed here, in order; control applies the pending ones at start. */
export const MIGRATIONS = [
  InitialSchema1732262400000,
  AgentsAndMeasurements1732348800000,
  QuotaStates1732435200000,
  HistoryAndOutbox1732521600000,
  MeasurementDigest1732608000000,
  AuditAndGrants1732694400000,
  InventoryVersions1732780800000,
  AgentTrust1732867200000,
  HostOwnership1732953600000,
  AuditKeys1733126400000,
  HostsSiteIndex1733212800000,
  AuditPending1733299200000,
  HotUpdates1733385600000,
];

export type { AuditChainSealer };

export type SqliteSynchronous = 'normal' | 'full';

export interface DatabaseSettings {
  /** `sqlite:<path>` or `postgres://user@host:5432/db` */
  url: string;
  /** SQLite only: `normal` survives any process crash; `full` also survives power loss, at a cost per commit. */
  sqliteSynchronous?: SqliteSynchronous;
  /** PostgreSQL only: connections in the pool. */
  poolSize?: number;
  /** PostgreSQL only: how the pool's connections name themselves in pg_stat_activity (which replica they serve). */
  applicationName?: string;
  /** Control's key sealing an unkeyed audit chain, once, when AuditKeys1733126400000 is applied (see there). */
  sealAuditChain?: AuditChainSealer;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

export function sqlitePath(url: string): string {
  return resolve(url.replace(/^sqlite:(\/\/)?/, ''));
}

export function dataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  const seal = settings.sealAuditChain;
  const migrations = seal
    ? MIGRATIONS.map((migration) => (migration === AuditKeys1733126400000 ? AuditKeys1733126400000.sealingWith(seal) : migration))
    : MIGRATIONS;
  const common = { entities: ENTITIES, migrations, synchronize: false, migrationsRun: false, logging: false } as const;
  if (isPostgresUrl(settings.url)) {
    return {
      ...common,
      type: 'postgres',
      url: settings.url,
      applicationName: settings.applicationName?.slice(0, 63),
      // connectionTimeoutMillis bounds the wait for a connection (a new one, or a free one of the pool): while the
      // database is away requests fail (503) rather than queue without end. keepAlive finds half-open connections.
      // default_transaction_isolation: the unit of work's transactions are READ COMMITTED whatever the database's
      // default, set once per connection rather than by a SET TRANSACTION round trip in every transaction.
      extra: { max: settings.poolSize ?? 20, connectionTimeoutMillis: 5_000, keepAlive: true, options: '-c default_transaction_isolation=read\\ committed' },
    };
  }
  const database = sqlitePath(settings.url);
  createPrivately(database);
  const synchronous = (settings.sqliteSynchronous ?? 'normal').toUpperCase();
  return {
    ...common,
    type: 'better-sqlite3',
    database,
    enableWAL: true,
    prepareDatabase: (db: { pragma(source: string): unknown }) => {
      db.pragma(`synchronous = ${synchronous}`);
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
      // A 64 MiB page cache holds the hot rows of a 10,000-host facility (latest measurements, agents, hosts).
      db.pragma('cache_size = -65536');
    },
  };
}

/**
 * Creates the database file (and any missing directory above it) for the owner only, whatever the umask, before
 * SQLite opens it: SQLite creates a file 0644 and gives its -wal and -shm files the database file's mode. Files left
 * by an earlier start are narrowed too.
 */
function createPrivately(database: string): void {
  mkdirSync(dirname(database), { recursive: true, mode: 0o700 });
  closeSync(openSync(database, 'a', 0o600));
  for (const file of [database, `${database}-wal`, `${database}-shm`]) if (existsSync(file)) chmodSync(file, 0o600);
}

/** The advisory lock that keeps replicas starting together from migrating at the same time. */
const MIGRATION_LOCK_ID = ADVISORY_LOCKS.migrations;

/** Applies pending migrations; on PostgreSQL under an advisory lock, so that only one replica migrates. */
export async function migrate(dataSource: DataSource): Promise<void> {
  if (dataSource.options.type !== 'postgres') {
    await dataSource.runMigrations({ transaction: 'each' });
    return;
  }
  const lock = dataSource.createQueryRunner();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
    await lock.release();
  }
}

/** Whether every migration this build knows has been applied. */
export function migrationsApplied(applied: readonly { name: string }[]): boolean {
  const names = new Set(applied.map((row) => row.name));
  return MIGRATIONS.every((migration) => names.has(migration.name));
}

/** Opens the database and applies pending migrations. */
export async function openDataSource(settings: DatabaseSettings): Promise<DataSource> {
  const dataSource = new DataSource(dataSourceOptions(settings));
  await dataSource.initialize();
  await migrate(dataSource);
  return dataSource;
}
