import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { defaultAllocationRatio, measuredTotalReason } from '@dcm/domain';
import { AgentEntity, HostEntity, InventoryEntity, isDatabaseUnavailable, isUniqueViolation, TokenEntity, UnitOfWork } from '@dcm/persistence';
import { EntryDropReason, reportRefusal, screenReport } from '@dcm/protocol';
import type { EnrolRequest, EnrolResponse, IngestResponse, Report, ReportRefusal } from '@dcm/protocol';
import { EntityManager } from 'typeorm';
import { Principal } from '../common/principal';
import { TokensService } from '../auth/tokens.service';
import { Clock } from '../common/clock';
import { Problems } from '../common/problem';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { HostsRepository } from '../hosts/hosts.repository';
import { PlacementCatalog } from '../hosts/placement-catalog';
import { MetricsRecorder } from '../telemetry/process-metrics';
import { AgentsRepository, HostSampleRow, IngestTarget, ReportWrites, TenantSampleRow } from './agents.repository';
import { BatchOutcome, Batcher } from '../common/batcher';
import { Actor, tokenActor } from '../common/actor';
import { AuditLog } from '../audit/audit-log';

/** Where a host that enrols itself lands until an operator moves it (PATCH /v1/hosts/:name {"site": …}). */
export const ENROLLED_HOST_SITE = 'unassigned';
const MINUTE_MS = 60_000;
/** Why an enrolment's hostname is refused (409), the same whatever the reason. */
const HOSTNAME_REFUSED = 'this hostname cannot be enrolled with this join token';

/** The inventory totals an agent measures; operators own reserved and allocationRatio. */
const MEASURED_CLASSES = ['vcpu', 'memory', 'storage'] as const;
/** Hosts and tenants already logged for reporting use they may not report: each pair is logged once (per process). */
const MAX_LOGGED_FOREIGN_TENANTS = 10_000;
/** At most this many agents' posts are stored in one transaction. */
const MAX_POSTS_A_BATCH = 256;
/** PostgreSQL: batches stored at once, so that one batch's round trips overlap another's, leaving most of the pool to the rest of the API. */
const BATCHES_AT_ONCE = 4;

/** One agent's post of reports. */
interface IngestRequest {
  agentId: string;
  principal: Principal;
  reports: Report[];
}

/** What storing a post came to. */
interface StoredPost {
  hostId: string;
  hostName: string;
  accepted: number;
  duplicates: number;
  refused: { seq: number; reason: ReportRefusal }[];
  dropped: Map<EntryDropReason, number>;
  foreignTenants: string[];
  lastSeq: number;
  /** Whether placement's catalog needs the host again (its status or inventory changed). */
  refresh: boolean;
}

/** A post its agent may make, split into the reports to store and those refused (see AgentsService.admit). */
interface AdmittedPost {
  target: IngestTarget;
  duplicates: number;
  admitted: Report[];
  refused: { seq: number; reason: ReportRefusal }[];
  newestTimed: Report | undefined;
}

@Injectable()
export class AgentsService {
  private readonly logger = new Logger(AgentsService.name);
  private readonly loggedForeignTenants = new Set<string>();
  private readonly batcher: Batcher<IngestRequest, StoredPost>;

  constructor(
    private readonly agents: AgentsRepository,
    private readonly hosts: HostsRepository,
    private readonly tokens: TokensService,
    private readonly catalog: PlacementCatalog,
    private readonly unitOfWork: UnitOfWork,
    private readonly clock: Clock,
    @Inject(CONTROL_CONFIG) private readonly config: ControlConfig,
    private readonly metrics: MetricsRecorder,
    private readonly auditLog: AuditLog,
  ) {
    this.batcher = new Batcher({
      handle: (requests) => this.storeBatch(requests),
      keyOf: (request) => request.agentId,
      maxBatch: MAX_POSTS_A_BATCH,
      concurrency: BATCHES_AT_ONCE,
    });
  }

  /**
   * Enrols the agent of a host with a join token: a new host is created (placeable once an operator accepts it, unless
   * the token says accept), with its measured totals as inventories; an existing host only with a join token an
   * operator issued for it by name, and then the new agent replaces its earlier one. The agent receives credentials of
   * its own.
   */
  async enrol(request: EnrolRequest): Promise<EnrolResponse> {
    const measured = {
      vcpu: request.facts.logicalCores,
      memory: request.facts.memoryTotalBytes,
      storage: sum(request.facts.storage.map((fs) => fs.sizeBytes)),
    };
    const absurd = MEASURED_CLASSES.map((resourceClass) => measuredTotalReason(resourceClass, measured[resourceClass])).filter((reason) => reason !== null);
    if (absurd.length > 0) throw Problems.validation(`facts: ${absurd.join('; ')}`, absurd);
    // Read-only checks first: an enrolment that cannot succeed queues no write behind SQLite's single writer.
    const usable = await this.tokens.requireUsableJoinToken(request.joinToken);
    refuseHostname(usable, request.hostname, await this.hosts.findLiveByName(request.hostname));
    const result = await this.unitOfWork.run(async (tx) => {
      const joinToken = await this.tokens.consumeJoinToken(request.joinToken, tx);
      const actor = tokenActor(joinToken.id);
      const now = this.clock.now();
      const existing = await this.hosts.findLiveByName(request.hostname, tx);
      // Checked again inside the transaction (another enrolment may have created the host), and thrown there, so that
      // the token's use is not spent either.
      refuseHostname(joinToken, request.hostname, existing);
      const host = existing ?? (await this.createHost(request.hostname, joinToken.accept, now, tx));
      if (joinToken.accept) host.accepted = true;
      const replaced = host.agentId !== null;
      const previousAgentId = host.agentId;
      if (previousAgentId !== null) await this.retire(previousAgentId, now, actor, tx);
      const agentId = randomUUID();
      const { token, secret } = await this.tokens.issueAgentToken(`agent ${request.hostname}`, tx);
      await this.agents.save(
        Object.assign(new AgentEntity(), {
          id: agentId,
          hostId: host.id,
          tokenId: token.id,
          facts: request.facts,
          lastSeq: 0,
          enrolledAt: now,
          lastReportAt: null,
          revokedAt: null,
        }),
        tx,
      );
      // A host enrolled afresh, or with a token that accepts it, is sized by what its agent measures now.
      await this.syncInventories(host, measured, now, tx, !existing || joinToken.accept);
      Object.assign(host, { agentId, updatedAt: now });
      await this.hosts.saveHost(host, tx);
      await this.auditLog.record(tx, {
        actor,
        action: 'agent.enrol',
        subjectType: 'host',
        subject: host.name,
        before: existing ? { agentId: previousAgentId, origin: existing.origin, accepted: existing.accepted } : null,
        after: { agentId, agentTokenId: token.id, origin: host.origin, accepted: host.accepted, facts: request.facts },
      });
      return { agentId, agentToken: secret, hostName: host.name, hostId: host.id, replaced };
    });
    // A replaced agent's token was revoked inside the transaction: forget it again now that the revocation is committed.
    if (result.replaced) this.tokens.forgetCached();
    await this.catalog.refreshHost(result.hostId);
    return { agentId: result.agentId, agentToken: result.agentToken, hostName: result.hostName, reportIntervalSeconds: this.config.reportIntervalSeconds };
  }

  /**
   * Stores a post of reports from one agent. Reports at or below the agent's last stored seq are duplicates (replays
   * after a lost answer) and are ignored; a report collected outside the time window around control's clock, or whose
   * seq jumps too far, is refused on its own (the agent is told, and sends it no more); the entries of a stored report
   * its host may not speak for, or that break the protocol's rules, are dropped and counted (see screenReport). The
   * answer tells the agent what is safe to forget.
   *
   * Posts from different agents that arrive together are stored together, in one transaction (see storeBatch).
   */
  async ingest(agentId: string, principal: Principal, reports: Report[]): Promise<IngestResponse> {
    const outcome = await this.store({ agentId, principal, reports }).catch((error: unknown) => {
      this.metrics.countAgentReports('rejected', reports.length);
      throw error;
    });
    this.metrics.countAgentReports('accepted', outcome.accepted);
    this.metrics.countAgentReports('duplicate', outcome.duplicates);
    this.metrics.countAgentReports('refused', outcome.refused.length);
    this.metrics.countDroppedEntries(outcome.dropped);
    this.logForeignTenants(outcome.hostName, outcome.foreignTenants);
    if (outcome.refresh) await this.catalog.refreshHost(outcome.hostId);
    return {
      accepted: outcome.accepted,
      duplicates: outcome.duplicates,
      refused: outcome.refused,
      lastSeq: outcome.lastSeq,
      reportIntervalSeconds: this.config.reportIntervalSeconds,
    };
  }

  /**
   * On SQLite a post is a piece of work of its own: the unit of work already commits what arrives together in one
   * transaction (a savepoint a post), and gathering posts here first cost it 9 % of its reports/s (`npm run bench --
   * ingest-versus`: a batch alone in the unit of work's queue waits out its gathering time, and then the next batch
   * waits for it). On PostgreSQL, where each transaction is its own, posts are gathered here (see storeBatch).
   */
  private async store(request: IngestRequest): Promise<StoredPost> {
    if (this.unitOfWork.dialect === 'postgres') return this.batcher.submit(request);
    const [outcome] = await this.unitOfWork.run((tx) => this.storeAll([request], tx));
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /**
   * PostgreSQL: stores posts of different agents in one transaction: their agents locked in one statement, the tenants their hosts
   * may report for read in one, and everything they write written in one (on PostgreSQL; see writeReports). Every
   * agent posts each interval, and on PostgreSQL a transaction of a dozen round trips a post cost six times what
   * SQLite's did (`npm run bench -- ingest`). A post refused on its own (unknown agent, host gone) writes nothing and
   * fails alone; should the transaction fail as a whole, each post is stored again alone, so that none fails for another.
   */
  private async storeBatch(requests: IngestRequest[]): Promise<BatchOutcome<StoredPost>[]> {
    try {
      return await this.unitOfWork.run((tx) => this.storeAll(requests, tx));
    } catch (error) {
      // With the database away, storing each post again alone would only fail each again, a connection attempt apiece.
      if (requests.length === 1 || isDatabaseUnavailable(error)) throw error;
      return Promise.all(
        requests.map((request) =>
          this.unitOfWork
            .run((tx) => this.storeAll([request], tx))
            .then(
              ([outcome]) => outcome,
              (failure: unknown) => ({ ok: false as const, error: failure }),
            ),
        ),
      );
    }
  }

  private async storeAll(requests: IngestRequest[], tx: EntityManager): Promise<BatchOutcome<StoredPost>[]> {
    const targets = await this.agents.lockIngestTargets(
      requests.map((request) => request.agentId),
      tx,
    );
    const now = this.clock.now();
    const posts = requests.map((request) => {
      try {
        return this.admitPost(request, targets.get(request.agentId), now.getTime());
      } catch (error) {
        return error instanceof Error ? error : new Error(String(error));
      }
    });
    const admittedPosts = posts.filter((post): post is AdmittedPost => !(post instanceof Error));
    const tenantIdsByHost = await this.agents.reportableTenantIds(
      new Map(admittedPosts.map((post) => [post.target.hostId, [...new Set(post.admitted.flatMap((report) => Object.keys(report.tenants)))]])),
      tx,
    );
    const hostSamples = new Map<string, HostSampleRow>();
    const tenantSamples = new Map<string, TenantSampleRow>();
    const writes: ReportWrites = { hostSamples: [], tenantSamples: [], latest: [], progress: [] };
    const outcomes: BatchOutcome<StoredPost>[] = [];
    for (const post of posts) {
      if (post instanceof Error) {
        outcomes.push({ ok: false, error: post });
        continue;
      }
      const { target, admitted } = post;
      const tenantIds = tenantIdsByHost.get(target.hostId) ?? new Map<string, string>();
      const mayReportFor = (slug: string) => tenantIds.has(slug);
      const recorded = { memoryBytes: target.totals.memory ?? null, storageBytes: target.totals.storage ?? null };
      const dropped = new Map<EntryDropReason, number>();
      const foreignTenants = new Set<string>();
      let latest: Report | undefined;
      for (const report of admitted) {
        const screened = screenReport(report, mayReportFor, recorded);
        for (const [reason, count] of screened.dropped) dropped.set(reason, (dropped.get(reason) ?? 0) + count);
        for (const slug of screened.foreignTenants) foreignTenants.add(slug);
        // The last report of a minute wins, as each report's upsert in turn would have it.
        for (const row of sampleRows(target.hostId, screened.report, tenantIds)) {
          if ('tenantId' in row) tenantSamples.set(`${row.tenantId} ${row.hostId} ${row.bucket}`, row);
          else hostSamples.set(`${row.hostId} ${row.bucket}`, row);
        }
        latest = screened.report;
      }
      let inventoriesChanged = false;
      if (latest) {
        writes.latest.push({ hostId: target.hostId, seq: latest.seq, collectedAt: Date.parse(latest.collectedAt), receivedAt: now.getTime(), report: latest });
        const measured = { vcpu: latest.inventory.vcpu, memory: latest.inventory.memoryBytes, storage: latest.inventory.storageBytes };
        // The entity path (and its writes) only when a measured total moved, which is rare.
        if (MEASURED_CLASSES.some((resourceClass) => measurementMoved(target, resourceClass, measured[resourceClass]))) {
          inventoriesChanged = await this.syncInventories((await this.hosts.findLiveById(target.hostId, tx))!, measured, now, tx);
        }
      }
      const hostStatus = target.hostStatus === 'maintenance' ? 'maintenance' : 'up';
      const lastSeq = latest ? latest.seq : target.lastSeq;
      // A post of replays alone leaves the host's clock skew as it was.
      const clockSkewMs = post.newestTimed ? now.getTime() - Date.parse(post.newestTimed.collectedAt) : null;
      writes.progress.push({ agentId: target.agentId, hostId: target.hostId, lastSeq, at: now.getTime(), status: hostStatus, clockSkewMs });
      outcomes.push({
        ok: true,
        value: {
          hostId: target.hostId,
          hostName: target.hostName!,
          accepted: admitted.length,
          duplicates: post.duplicates,
          refused: post.refused,
          dropped,
          foreignTenants: [...foreignTenants],
          lastSeq,
          refresh: hostStatus !== target.hostStatus || inventoriesChanged,
        },
      });
    }
    writes.hostSamples = [...hostSamples.values()];
    writes.tenantSamples = [...tenantSamples.values()];
    if (writes.progress.length > 0) await this.agents.writeReports(writes, tx);
    return outcomes;
  }

  /** What of a post may be stored (see admit), once its agent is known to be the caller's and its host live. */
  private admitPost({ agentId, principal, reports }: IngestRequest, target: IngestTarget | undefined, now: number): AdmittedPost {
    if (!target || target.revoked || principal.kind !== 'agent' || target.tokenId !== principal.tokenId) {
      // Indistinguishable from a missing agent, so that one agent's token cannot probe for others.
      throw Problems.notFound(`agent ${agentId}`);
    }
    if (!target.hostStatus) throw Problems.conflict(`the host of agent ${agentId} has been decommissioned; enrol again`);
    const fresh = uniqueBySeq(reports).filter((report) => report.seq > target.lastSeq);
    return { target, duplicates: reports.length - fresh.length, ...this.admit(fresh, target.lastSeq, now) };
  }

  /**
   * The fresh reports (in seq order) to store, and those refused with why; a refused report never moves the agent's
   * last seq. `newestTimed`: the newest report whose collection time counts for the host's clock skew (a seq jump's
   * does not, nor one with no valid instant).
   */
  private admit(fresh: Report[], lastSeq: number, now: number) {
    const window = { maxAheadSeconds: this.config.reportMaxAheadSeconds, maxBehindSeconds: this.config.reportMaxBehindSeconds };
    const admitted: Report[] = [];
    const refused: { seq: number; reason: ReportRefusal }[] = [];
    let newestTimed: Report | undefined;
    let last = lastSeq;
    for (const report of fresh) {
      const reason = reportRefusal(report, last, now, window);
      if (reason !== 'seq-jump' && reason !== 'collected-at-invalid') newestTimed = report;
      if (reason) refused.push({ seq: report.seq, reason });
      else {
        admitted.push(report);
        last = report.seq;
      }
    }
    return { admitted, refused, newestTimed };
  }

  private logForeignTenants(hostName: string, slugs: string[]): void {
    for (const slug of slugs) {
      const key = `${hostName}/${slug}`;
      if (this.loggedForeignTenants.has(key)) continue;
      if (this.loggedForeignTenants.size >= MAX_LOGGED_FOREIGN_TENANTS) this.loggedForeignTenants.clear();
      this.loggedForeignTenants.add(key);
      this.logger.warn(
        `host ${hostName} reported use for tenant ${slug}, which holds no active allocation on it and is not bound to it: dropped (logged once per host and tenant)`,
      );
    }
  }

  /**
   * Records measured totals. They are measurements: on a host an operator registered (or sized) the operator's total
   * stands and the measurement is kept beside it; on a host its agent created, the total follows the measurement until
   * an operator accepts the host, and afterwards only downwards: a rise is kept beside the total in force until an
   * operator accepts the host again (or sets the inventory), so that an accepted host cannot grow itself and draw
   * placements. A total that falls below what is allocated leaves the host over-committed (see inventoryOvercommitted),
   * never with less than nothing free. A class the agent measures for the first time gets the default ratio; a total
   * beyond belief (measuredTotalReason) is ignored. `risesApply`: an operator's acceptance covers these totals (an
   * enrolment that creates the host, or one with a token that accepts it). Says whether anything changed: placement's
   * catalog then needs the host again.
   */
  private async syncInventories(
    host: HostEntity,
    totals: Record<(typeof MEASURED_CLASSES)[number], number>,
    now: Date,
    tx: EntityManager,
    risesApply = false,
  ): Promise<boolean> {
    const current = new Map((host.inventories ?? []).map((inventory) => [inventory.resourceClass, inventory]));
    const follows = host.origin === 'agent';
    const rises = risesApply || !host.accepted;
    const changed: InventoryEntity[] = [];
    for (const resourceClass of MEASURED_CLASSES) {
      const measured = totals[resourceClass];
      if (measuredTotalReason(resourceClass, measured) !== null) continue;
      const inventory = current.get(resourceClass);
      const inForce = inventory?.total ?? 0;
      const total = !follows ? (inventory?.total ?? measured) : rises || measured <= inForce ? measured : inForce;
      if (inventory && inventory.total === total && inventory.measuredTotal === measured) continue;
      // The operator did not declare this class: the operator's inventory (none) stands.
      if (!inventory && (!follows || measured === 0)) continue;
      changed.push(
        Object.assign(
          inventory ??
            Object.assign(new InventoryEntity(), {
              hostId: host.id,
              resourceClass,
              reserved: 0,
              allocationRatio: defaultAllocationRatio(resourceClass),
              minUnit: null,
              maxUnit: null,
              stepSize: null,
              allocated: 0,
            }),
          {
            total,
            measuredTotal: measured,
            updatedAt: now,
          },
        ),
      );
    }
    if (changed.length > 0) await this.hosts.saveInventories(changed, tx);
    return changed.length > 0;
  }

  private async createHost(name: string, accepted: boolean, now: Date, tx: EntityManager): Promise<HostEntity> {
    const host = Object.assign(new HostEntity(), {
      id: randomUUID(),
      name,
      site: ENROLLED_HOST_SITE,
      rack: null,
      labels: {},
      accreditation: 'OFFICIAL',
      dedicatedTenantId: null,
      status: 'up',
      origin: 'agent',
      accepted,
      agentId: null,
      lastReportAt: null,
      createdAt: now,
      updatedAt: now,
      decommissionedAt: null,
      inventories: [],
    } satisfies HostEntity);
    await this.hosts.saveHost(host, tx).catch((error: unknown) => {
      // PostgreSQL: another enrolment created a host of this name meanwhile (hosts_name_live); SQLite's queue serialises.
      throw isUniqueViolation(error) ? Problems.conflict(HOSTNAME_REFUSED) : error;
    });
    return host;
  }

  private async retire(agentId: string, now: Date, actor: Actor, tx: EntityManager): Promise<void> {
    const previous = await this.agents.lockById(agentId, tx);
    if (!previous || previous.revokedAt) return;
    previous.revokedAt = now;
    await this.agents.save(previous, tx);
    await this.tokens.revokeWithin(previous.tokenId, now, actor, tx);
  }
}

/**
 * Refuses a hostname the join token may not enrol: an existing host without a token issued for it by name, or another
 * host than the one the token names. One answer for every case, so that a join token cannot tell which hosts exist.
 */
function refuseHostname(joinToken: TokenEntity, hostname: string, existing: HostEntity | null): void {
  const named = joinToken.hostName !== null;
  if ((named && joinToken.hostName !== hostname) || (existing && !named)) throw Problems.conflict(HOSTNAME_REFUSED);
}

/** Whether syncInventories would record this measurement: a believable total that differs from the one recorded. */
function measurementMoved(target: IngestTarget, resourceClass: (typeof MEASURED_CLASSES)[number], measured: number): boolean {
  if (measuredTotalReason(resourceClass, measured) !== null) return false;
  if (Object.hasOwn(target.measuredTotals, resourceClass)) return target.measuredTotals[resourceClass] !== measured;
  // No inventory of the class: the agent's own host gains one; an operator's host keeps none.
  return target.hostOrigin === 'agent' && measured !== 0;
}

/** The samples a report makes: its host's, and each tenant's it may speak for (see screenReport), in its minute. */
function sampleRows(hostId: string, report: Report, tenantIds: Map<string, string>): (HostSampleRow | TenantSampleRow)[] {
  const bucket = Math.floor(Date.parse(report.collectedAt) / MINUTE_MS) * MINUTE_MS;
  const rows: (HostSampleRow | TenantSampleRow)[] = [
    {
      hostId,
      bucket,
      cpuUsageRatio: report.cpu.usageRatio,
      load1: report.cpu.load1,
      memoryTotal: report.memory.totalBytes,
      memoryAvailable: report.memory.availableBytes,
      storageSize: sum(report.filesystems.map((fs) => fs.sizeBytes)),
      storageUsed: sum(report.filesystems.map((fs) => fs.usedBytes)),
    },
  ];
  for (const [slug, use] of Object.entries(report.tenants)) {
    const tenantId = tenantIds.get(slug);
    if (!tenantId) continue; // screenReport keeps only tenants the host may speak for
    rows.push({
      tenantId,
      hostId,
      bucket,
      storageUsed: use.storageUsedBytes ?? null,
      memoryBytes: use.memoryBytes ?? null,
      cpuSecondsTotal: use.cpuUsageSecondsTotal ?? null,
    });
  }
  return rows;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function uniqueBySeq(reports: Report[]): Report[] {
  const bySeq = new Map(reports.map((report) => [report.seq, report]));
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}
