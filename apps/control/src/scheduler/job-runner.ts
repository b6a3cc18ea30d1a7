import { Injectable, Logger, BeforeApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { UnitOfWork } from '@dcm/persistence';
import { LeaderElection, LeadershipLostError } from './leader-election';

export interface JobDefinition {
  /** Stable name: log lines, /v1/scheduler and dcm_scheduler_job_duration_seconds{job} use it. */
  name: string;
  intervalMs: number;
  run: () => Promise<unknown>;
  /** Run on every replica, not only the leader: for read-only work whose result each replica keeps (e.g. gauges). */
  everyReplica?: boolean;
}

export type JobOutcome = 'ok' | 'error' | 'skipped';

/** Told of every run that happened: the metrics module observes durations through this. */
export type JobObserver = (job: string, seconds: number, outcome: Exclude<JobOutcome, 'skipped'>) => void;

export interface JobStatus {
  name: string;
  intervalSeconds: number;
  everyReplica: boolean;
  running: boolean;
  lastRunAt: string | null;
  lastDurationSeconds: number | null;
  lastOutcome: JobOutcome | null;
  lastError: string | null;
}

interface RegisteredJob extends JobDefinition {
  running: Promise<void> | null;
  rerun: boolean;
  lastRunAt: Date | null;
  lastDurationSeconds: number | null;
  lastOutcome: JobOutcome | null;
  lastError: string | null;
}

/**
 * Every scheduler job runs through here: only on the elected leader (unless it asks for every replica), never two runs
 * of one job at once, errors caught and logged (one failing run does not stop the next), durations measured and handed
 * to the observers.
 */
@Injectable()
export class JobRunner implements BeforeApplicationShutdown {
  private readonly logger = new Logger(JobRunner.name);
  private readonly jobs = new Map<string, RegisteredJob>();
  private readonly observers: JobObserver[] = [];
  private stopping = false;

  constructor(
    private readonly election: LeaderElection,
    private readonly registry: SchedulerRegistry,
  ) {}

  register(definition: JobDefinition): void {
    if (this.jobs.has(definition.name)) throw new Error(`scheduler job ${definition.name} is registered twice`);
    this.jobs.set(definition.name, {
      ...definition,
      running: null,
      rerun: false,
      lastRunAt: null,
      lastDurationSeconds: null,
      lastOutcome: null,
      lastError: null,
    });
    const timer = setInterval(() => void this.trigger(definition.name), definition.intervalMs);
    timer.unref();
    this.registry.addInterval(`dcm:${definition.name}`, timer);
  }

  /** Adds an observer of finished runs (e.g. the metrics module's observeJob). */
  observe(observer: JobObserver): void {
    this.observers.push(observer);
  }

  /**
   * Runs the job now if this replica leads; when a run is already under way, one more follows it (so that work
   * triggered mid-run is not missed). Resolves when the run ends; never rejects.
   */
  trigger(name: string): Promise<void> {
    const job = this.jobs.get(name);
    if (!job || this.stopping || (!job.everyReplica && !this.election.isLeader())) return Promise.resolve();
    if (job.running) {
      job.rerun = true;
      return job.running;
    }
    job.running = this.execute(job).finally(() => {
      job.running = null;
      if (job.rerun) {
        job.rerun = false;
        void this.trigger(name);
      }
    });
    return job.running;
  }

  status(): JobStatus[] {
    return [...this.jobs.values()].map((job) => ({
      name: job.name,
      intervalSeconds: job.intervalMs / 1000,
      everyReplica: job.everyReplica === true,
      running: job.running !== null,
      lastRunAt: job.lastRunAt?.toISOString() ?? null,
      lastDurationSeconds: job.lastDurationSeconds,
      lastOutcome: job.lastOutcome,
      lastError: job.lastError,
    }));
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    for (const job of this.jobs.values()) {
      if (this.registry.doesExist('interval', `dcm:${job.name}`)) this.registry.deleteInterval(`dcm:${job.name}`);
    }
    // Let runs under way finish while the database is still open.
    await Promise.all([...this.jobs.values()].map((job) => job.running));
  }

  private async execute(job: RegisteredJob): Promise<void> {
    const started = process.hrtime.bigint();
    const startedAt = new Date();
    const fenced = !job.everyReplica && this.election.isShared();
    let outcome: Exclude<JobOutcome, 'skipped'> = 'ok';
    let leadershipLost = false;
    try {
      // A leader-only run proves in each of its transactions that this replica still leads (LeaderElection.fence).
      await (fenced ? UnitOfWork.guarded((manager) => this.election.fence(manager), job.run) : job.run());
      job.lastError = null;
    } catch (error) {
      outcome = 'error';
      job.lastError = (error as Error).message;
      leadershipLost = error instanceof LeadershipLostError;
      if (leadershipLost) this.logger.warn({ msg: `scheduler job ${job.name} stopped: ${(error as Error).message}`, job: job.name });
      else this.logger.error({ msg: `scheduler job ${job.name} failed`, job: job.name, err: error });
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (fenced) {
      // One line per leader-only run, so that runs on different replicas can be shown never to overlap.
      const details = {
        job: job.name,
        replica: this.election.replica,
        startedAt: startedAt.toISOString(),
        endedAt: new Date().toISOString(),
        outcome,
        leadershipLost,
      };
      this.logger.debug({ msg: 'scheduler job ran', ...details });
    }
    Object.assign(job, { lastRunAt: new Date(), lastDurationSeconds: seconds, lastOutcome: outcome });
    for (const observer of this.observers) {
      try {
        observer(job.name, seconds, outcome);
      } catch (error) {
        this.logger.warn(`an observer of scheduler job ${job.name} failed: ${(error as Error).message}`);
      }
    }
  }
}
