import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { ENTRY_DROP_REASONS, EntryDropReason } from '@dcm/protocol';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ForecastBasis } from '@dcm/domain';
import type { ProblemCode } from '../common/problem';
import { METRIC_CATALOGUE, MetricDefinition, MetricName } from './metric-catalogue';

/**
 * How ingest answered reports: stored, ignored as a duplicate by seq, rejected with its request (invalid, unknown
 * agent, host gone), or refused on its own (outside the time window, a seq jump) while the rest of its batch was stored.
 */
export type AgentReportOutcome = 'accepted' | 'duplicate' | 'rejected' | 'refused';
/** `admitted`, or the problem code of the refusal (QuotaExceeded, InsufficientCapacity, TenantFrozen, …). */
export type AllocationOutcome = 'admitted' | ProblemCode;

const AGENT_REPORT_OUTCOMES: readonly AgentReportOutcome[] = ['accepted', 'duplicate', 'rejected', 'refused'];
/** Shown at 0 from the start, so that rate() and increase() see the first refusal of each kind. */
const COMMON_ALLOCATION_OUTCOMES: readonly AllocationOutcome[] = ['admitted', 'QuotaExceeded', 'InsufficientCapacity', 'TenantFrozen'];
/** Scheduler jobs take from milliseconds (liveness sweep) to minutes (downsampling a year of samples). */
const JOB_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/**
 * Default metrics that are gauges named like counters, which `promtool check metrics` rejects; their per-type
 * siblings (nodejs_active_handles{type}, …) stay, and sum() of those gives the same totals.
 */
const MISNAMED_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

function catalogued(name: MetricName): { name: string; help: string; labelNames: string[] } {
  const definition: MetricDefinition = METRIC_CATALOGUE.find((candidate) => candidate.name === name)!;
  return { name: definition.name, help: definition.help, labelNames: [...definition.labels] };
}

/**
 * What only this process knows, in a prom-client registry of its own: counters of requests it answered, how long its
 * scheduler jobs took, the forecast its scheduler computed, and Node's default process metrics. Everything about the
 * facility itself is read from the database on each scrape instead (MetricsService), so that every replica shows it.
 */
@Injectable()
export class ProcessMetrics implements OnModuleDestroy {
  // Registered (and so written) in catalogue order.
  readonly registry = new Registry();
  readonly forecast = new Gauge({ ...catalogued('dcm_capacity_forecast_full_timestamp_seconds'), registers: [this.registry] });
  readonly agentReports = new Counter({ ...catalogued('dcm_agent_reports_total'), registers: [this.registry] });
  readonly droppedEntries = new Counter({ ...catalogued('dcm_agent_report_entries_dropped_total'), registers: [this.registry] });
  readonly allocationRequests = new Counter({ ...catalogued('dcm_allocation_requests_total'), registers: [this.registry] });
  readonly jobDuration = new Histogram({ ...catalogued('dcm_scheduler_job_duration_seconds'), buckets: JOB_DURATION_BUCKETS, registers: [this.registry] });

  constructor() {
    for (const outcome of AGENT_REPORT_OUTCOMES) this.agentReports.inc({ outcome }, 0);
    for (const reason of ENTRY_DROP_REASONS) this.droppedEntries.inc({ reason }, 0);
    for (const outcome of COMMON_ALLOCATION_OUTCOMES) this.allocationRequests.inc({ outcome }, 0);
    collectDefaultMetrics({ register: this.registry });
    for (const name of MISNAMED_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
  }

  /** The families above and the default process metrics, in the text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  onModuleDestroy(): void {
    this.registry.clear();
  }
}

/** Counts and times what this process does, for /metrics. Features call it; it never throws. */
@Injectable()
export class MetricsRecorder {
  constructor(private readonly metrics: ProcessMetrics) {}

  /** `count` reports of one batch ended with `outcome`. */
  countAgentReports(outcome: AgentReportOutcome, count = 1): void {
    if (count > 0) this.metrics.agentReports.inc({ outcome }, count);
  }

  /** Entries of stored reports dropped, by reason. */
  countDroppedEntries(dropped: ReadonlyMap<EntryDropReason, number>): void {
    for (const [reason, count] of dropped) if (count > 0) this.metrics.droppedEntries.inc({ reason }, count);
  }

  countAllocationRequest(outcome: AllocationOutcome): void {
    this.metrics.allocationRequests.inc({ outcome });
  }

  observeJob(job: string, seconds: number): void {
    if (Number.isFinite(seconds) && seconds >= 0) this.metrics.jobDuration.observe({ job }, seconds);
  }
}

/**
 * The capacity forecast as the forecast job last computed it on this replica: `set(site, resource, basis, seconds)`
 * after each run, `null` when the class is not filling on that basis at the site (the series then disappears).
 */
@Injectable()
export class ForecastGauge {
  constructor(private readonly metrics: ProcessMetrics) {}

  set(site: string, resource: string, basis: ForecastBasis, timestampSeconds: number | null): void {
    if (timestampSeconds === null || !Number.isFinite(timestampSeconds)) this.metrics.forecast.remove({ site, resource, basis });
    else this.metrics.forecast.set({ site, resource, basis }, timestampSeconds);
  }

  /** Forgets every series, for a job that recomputes all sites and classes and wants vanished ones gone. */
  reset(): void {
    this.metrics.forecast.reset();
  }
}
