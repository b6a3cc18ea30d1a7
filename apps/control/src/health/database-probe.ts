import { hostname } from 'node:os';
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { dialectOf, migrationsApplied, rawQuery } from '@dcm/persistence';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';

/** How long a readiness query may take before the database counts as not answering. */
const PROBE_TIMEOUT_MS = 2_000;

/**
 * What /health/ready asks of the database. On PostgreSQL it asks on a connection of its own, not the pool's: a load
 * balancer checks readiness every second or so and marks a replica down (ending its sessions) when the check is slow,
 * and behind 100 busy clients the check waited for a pooled connection, so a replica that was only busy was taken out
 * (test/production.e2e-spec.ts saw haproxy answer 502 to clients under load). Migrations, once all applied, stay so.
 */
@Injectable()
export class DatabaseProbe implements OnModuleDestroy {
  private client: Promise<Client> | null = null;
  private migrated = false;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(CONTROL_CONFIG) private readonly config: Pick<ControlConfig, 'databaseUrl'>,
  ) {}

  /** Resolves when the database answers; rejects with why not. */
  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  /** Whether every migration this code knows is applied. */
  async migrationsApplied(): Promise<boolean> {
    if (!this.migrated) {
      this.migrated = migrationsApplied((await this.query('SELECT name FROM migrations')) as { name: string }[]);
    }
    return this.migrated;
  }

  async onModuleDestroy(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.then((connected) => connected.end()).catch(() => undefined);
  }

  private async query(sql: string): Promise<unknown[]> {
    // SQLite has no pool to wait for: its one connection is the probe.
    if (dialectOf(this.dataSource) !== 'postgres') return rawQuery(this.dataSource.manager, sql);
    const client = (this.client ??= this.connect());
    try {
      return (await (await client).query(sql)).rows;
    } catch (error) {
      // A refused, broken or slow connection is dropped: the next check connects afresh.
      if (this.client === client) this.client = null;
      void client.then((connected) => connected.end()).catch(() => undefined);
      throw error;
    }
  }

  private async connect(): Promise<Client> {
    const client = new Client({
      connectionString: this.config.databaseUrl,
      application_name: `dcm-health ${hostname()}/${process.pid}`.slice(0, 63),
      keepAlive: true,
      connectionTimeoutMillis: PROBE_TIMEOUT_MS,
      query_timeout: PROBE_TIMEOUT_MS,
    });
    // An error between checks (the server went away) is the next check's to find.
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }
}
