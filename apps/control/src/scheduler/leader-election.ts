import { hostname } from 'node:os';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ADVISORY_LOCKS, isPostgresUrl } from '@dcm/persistence';
import { Client } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';

/** The advisory lock whose holder runs the scheduler jobs. */
export const LEADER_LOCK_ID = ADVISORY_LOCKS.leader;
/**
 * The fence: every transaction of a leader-only job run holds it shared until it ends, and a replica that has just
 * taken the leader lock starts leading only once it can take it exclusively, i.e. once no transaction of the previous
 * leader is still open.
 */
export const FENCE_LOCK_ID = ADVISORY_LOCKS.fence;

/** Thrown inside a job run's transaction when this replica no longer leads: the transaction then commits nothing. */
export class LeadershipLostError extends Error {
  constructor() {
    super('this replica no longer holds the scheduler lock: the transaction was not committed');
  }
}
const APPLICATION_NAME_PREFIX = 'dcm-scheduler ';

/**
 * Elects the one replica that runs the scheduler jobs. On SQLite the single process is always the leader. On
 * PostgreSQL the leader is whoever holds a session-level advisory lock on a connection of its own (not one of the
 * pool's): every tick a follower tries to take the lock and the leader checks it still holds it. When that connection
 * fails the replica stops leading at once; PostgreSQL frees the lock when the session ends (a killed process's socket
 * closes), so another replica takes over at its next tick.
 *
 * Leadership is fenced: a job run's every transaction first checks, inside itself, that this replica's lock connection
 * still holds the lock (see fence()), and holds the fence lock shared while it runs; a new leader waits until it can
 * take the fence lock exclusively, so that the old leader's transactions in flight end before its own jobs start.
 */
@Injectable()
export class LeaderElection implements OnApplicationBootstrap, OnApplicationShutdown {
  /** How this replica names itself, in logs and in /v1/scheduler. */
  readonly replica = `${hostname()}/${process.pid}`;
  private readonly logger = new Logger(LeaderElection.name);
  private readonly shared: boolean;
  private leading: boolean;
  /** Holds the leader lock (on PostgreSQL), though it may still wait at the fence before it leads. */
  private holding = false;
  private client: Client | null = null;
  /** The backend process of the lock connection: the one pg_locks must show holding the lock. */
  private lockPid: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private stopped = false;

  constructor(
    @Inject(CONTROL_CONFIG) private readonly config: ControlConfig,
    private readonly dataSource: DataSource,
  ) {
    this.shared = isPostgresUrl(config.databaseUrl);
    this.leading = !this.shared;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.shared) return;
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.config.leaderIntervalSeconds * 1000);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    // Ending the session frees the lock at once, so that another replica need not wait for a dead connection.
    await this.dropConnection('shutting down');
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Whether leadership is shared through PostgreSQL (and job runs must be fenced). */
  isShared(): boolean {
    return this.shared;
  }

  /**
   * Run first in every transaction of a leader-only job run: holds the fence shared for the rest of the transaction and
   * throws LeadershipLostError unless this replica's own lock connection still holds the leader lock.
   */
  async fence(manager: EntityManager): Promise<void> {
    const pid = this.leading ? this.lockPid : null;
    if (!pid) throw new LeadershipLostError();
    // Two statements, in this order: the fence is held before pg_locks is read, so a new leader cannot slip between.
    await manager.query('SELECT pg_advisory_xact_lock_shared($1)', [FENCE_LOCK_ID]);
    const [{ held }] = await manager.query<{ held: boolean }[]>(
      `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = $1 AND classid = 0 AND objid = $2 AND objsubid = 1) AS held`,
      [pid, LEADER_LOCK_ID],
    );
    if (!held) throw new LeadershipLostError();
  }

  /** The replica holding the lock as PostgreSQL sees it (this one on SQLite); null when nobody leads. */
  async leader(): Promise<string | null> {
    if (!this.shared) return this.replica;
    const rows: { application_name: string }[] = await this.dataSource.query(
      `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = $1 AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [LEADER_LOCK_ID],
    );
    const name = rows[0]?.application_name;
    return name?.startsWith(APPLICATION_NAME_PREFIX) ? name.slice(APPLICATION_NAME_PREFIX.length) : (name ?? null);
  }

  /** One round of the election: take the lock, or make sure it is still held. Ticks never overlap. */
  tick(): Promise<void> {
    this.ticking ??= this.campaign().finally(() => (this.ticking = null));
    return this.ticking;
  }

  private async campaign(): Promise<void> {
    if (this.stopped) return;
    try {
      const client = this.client ?? (await this.connect());
      if (this.holding) {
        const [{ held }] = (
          await client.query<{ held: boolean }>(
            `SELECT count(*) > 0 AS held FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
               AND classid = 0 AND objid = $1 AND objsubid = 1`,
            [LEADER_LOCK_ID],
          )
        ).rows;
        if (!held) {
          this.holding = false;
          this.setLeading(false, 'the advisory lock is no longer held');
        }
      } else {
        const [{ acquired }] = (await client.query<{ acquired: boolean }>('SELECT pg_try_advisory_lock($1) AS acquired', [LEADER_LOCK_ID])).rows;
        this.holding = acquired;
      }
      if (this.holding && !this.leading) await this.passFence(client);
    } catch (error) {
      await this.dropConnection(`election connection failed: ${(error as Error).message}`);
    }
  }

  /** Leads once no transaction of a previous leader's job runs is still open (they hold the fence lock shared). */
  private async passFence(client: Client): Promise<void> {
    const [{ fenced }] = (await client.query<{ fenced: boolean }>('SELECT pg_try_advisory_lock($1) AS fenced', [FENCE_LOCK_ID])).rows;
    if (!fenced) {
      this.logger.warn({ msg: 'took the advisory lock; waiting for the previous leader’s transactions to end', replica: this.replica });
      return;
    }
    await client.query('SELECT pg_advisory_unlock($1)', [FENCE_LOCK_ID]);
    this.setLeading(true, 'took the advisory lock');
  }

  private async connect(): Promise<Client> {
    const timeoutMs = this.config.leaderIntervalSeconds * 1000;
    const client = new Client({
      connectionString: this.config.databaseUrl,
      application_name: `${APPLICATION_NAME_PREFIX}${this.replica}`.slice(0, 63),
      keepAlive: true,
      connectionTimeoutMillis: Math.max(timeoutMs, 2_000),
      // A check that hangs (a half-open connection) counts as lost: the lock may already be someone else's.
      query_timeout: Math.max(timeoutMs, 2_000),
    });
    client.on('error', (error) => void this.dropConnection(`election connection lost: ${error.message}`));
    client.on('end', () => {
      if (this.client === client) void this.dropConnection('election connection closed');
    });
    await client.connect();
    this.lockPid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    this.client = client;
    return client;
  }

  private async dropConnection(reason: string): Promise<void> {
    const client = this.client;
    this.client = null;
    this.lockPid = null;
    this.holding = false;
    if (this.leading) this.setLeading(false, reason);
    if (client) await client.end().catch(() => undefined);
  }

  private setLeading(leading: boolean, reason: string): void {
    if (this.leading === leading) return;
    this.leading = leading;
    const message = leading ? 'this replica now runs the scheduler jobs' : 'this replica no longer runs the scheduler jobs';
    const details = { msg: message, replica: this.replica, leader: leading, reason };
    // Giving the jobs up at shutdown is the normal end of a replica, not a lost lock.
    if (leading || this.stopped) this.logger.log(details);
    else this.logger.warn(details);
  }
}
