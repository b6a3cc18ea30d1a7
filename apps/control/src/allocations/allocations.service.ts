import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { checkQuota, evaluateHost, explainRefusal, PlacementStrategy, ResourceAmounts } from '@dcm/domain';
import { AllocationEntity, IdempotencyRecordEntity, isUniqueViolation, SqlWrite, UnitOfWork } from '@dcm/persistence';
import { EntityManager } from 'typeorm';
import { Actor, tokenActor } from '../common/actor';
import { AuditEntry, AuditLog } from '../audit/audit-log';
import type { Principal, TenantScope } from '../common/principal';
import { MetricsRecorder } from '../telemetry/process-metrics';
import { Clock } from '../common/clock';
import { ProblemCode, ProblemDetails, ProblemException, Problems } from '../common/problem';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { HostsRepository, PlacementHostRow } from '../hosts/hosts.repository';
import { CatalogHost, PlacementCatalog } from '../hosts/placement-catalog';
import { ResourceClassesService } from '../resource-classes/resource-classes.service';
import { TenantsRepository } from '../tenants/tenants.repository';
import { AllocationResponseDto, CreateAllocationDto, ListAllocationsQueryDto, toAllocationResponse } from './allocation.dto';
import { insufficientCapacity, quotaExceeded, REFUSAL_LIMITS } from './allocation-problems';
import { AdmissionTenant, AllocationRecord, AllocationsRepository } from './allocations.repository';
import { IdempotencyRepository } from './idempotency.repository';
import { DEFAULT_PAGE_LIMIT } from '../common/paging';

/** What a client may use as an Idempotency-Key: a UUID, a job id… printable ASCII, stored and compared as sent. */
const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/;

/** How many times admission re-tries when the placement catalog proved stale for the host it picked. */
const MAX_PLACEMENT_ATTEMPTS = 5;

/**
 * How many hosts placement passes over because another transaction holds their rows (PostgreSQL) before it waits for
 * one: each costs a round trip, and on one replica, whose catalog counts its own admissions in flight, it is rare.
 */
const MAX_BUSY_HOSTS_SKIPPED = 3;

export interface AllocationOutcome {
  status: number;
  body: AllocationResponseDto | ProblemDetails;
  replayed: boolean;
}

/** Thrown inside the admission transaction when the host the catalog chose no longer fits; the caller retries. */
class StaleCandidate extends Error {
  constructor(readonly hostId: string) {
    super(`placement catalog was stale for host ${hostId}`);
  }
}

/**
 * Thrown inside the admission transaction when the catalog holds no host for the request but may predate it (other
 * replicas write to the same database): the caller refreshes the catalog and decides again.
 */
class NoCandidate extends Error {
  constructor() {
    super('placement catalog found no host, but predates the request');
  }
}

interface AdmissionRequest {
  tenant: string;
  amounts: ResourceAmounts;
  host?: string;
  description: string;
  strategy: PlacementStrategy;
  principal: Principal;
  idempotency?: { key: string; requestHash: string };
}

@Injectable()
export class AllocationsService {
  constructor(
    private readonly allocations: AllocationsRepository,
    private readonly idempotency: IdempotencyRepository,
    private readonly tenants: TenantsRepository,
    private readonly hosts: HostsRepository,
    private readonly catalog: PlacementCatalog,
    private readonly resourceClasses: ResourceClassesService,
    private readonly unitOfWork: UnitOfWork,
    private readonly clock: Clock,
    @Inject(CONTROL_CONFIG) private readonly config: ControlConfig,
    private readonly metrics: MetricsRecorder,
    private readonly auditLog: AuditLog,
  ) {}

  /**
   * Admits an allocation atomically: quota check, placement, capacity check and insert in one transaction. With an
   * Idempotency-Key, the first outcome (success or refusal) is recorded and replayed to every retry.
   */
  async create(input: CreateAllocationDto, principal: Principal, idempotencyKey?: string): Promise<AllocationOutcome> {
    try {
      const outcome = await this.createOrReplay(input, principal, idempotencyKey);
      // A replay answers a retry of a request already counted.
      if (!outcome.replayed)
        this.metrics.countAllocationRequest(outcome.status === 201 ? 'admitted' : ((outcome.body as { code?: ProblemCode }).code ?? 'InternalError'));
      return outcome;
    } catch (error) {
      this.metrics.countAllocationRequest(error instanceof ProblemException ? error.code : 'InternalError');
      throw error;
    }
  }

  private async createOrReplay(input: CreateAllocationDto, principal: Principal, idempotencyKey?: string): Promise<AllocationOutcome> {
    const amounts = await this.resourceClasses.parseAmounts(input.resources, 'resources', { positive: true });
    const request: AdmissionRequest = {
      tenant: input.tenant,
      amounts,
      host: input.host,
      description: input.description ?? '',
      strategy: input.strategy ?? this.config.placementStrategy,
      principal,
    };
    if (idempotencyKey !== undefined) {
      if (!IDEMPOTENCY_KEY.test(idempotencyKey)) throw Problems.validation('Idempotency-Key must be 1–255 printable ASCII characters');
      const requestHash = createHash('sha256')
        .update(JSON.stringify([request.tenant, amounts, request.host ?? null, request.description, request.strategy]))
        .digest('hex');
      request.idempotency = { key: idempotencyKey, requestHash };
      const earlier = await this.idempotency.find(principal.tokenId, idempotencyKey);
      if (earlier) return this.replay(earlier, requestHash);
    }

    try {
      const body = await this.admitWithRetries(request);
      return { status: 201, body, replayed: false };
    } catch (error) {
      if (request.idempotency && isUniqueViolation(error)) {
        // A concurrent request with the same key committed first: answer with its outcome.
        const earlier = await this.idempotency.find(principal.tokenId, request.idempotency.key);
        if (earlier) return this.replay(earlier, request.idempotency.requestHash);
      }
      if (request.idempotency && error instanceof ProblemException && error.getStatus() === 409) {
        await this.recordRefusal(request, error);
      }
      throw error;
    }
  }

  /** Another tenant's allocation is not found by a tenant token, exactly like one that does not exist. */
  async get(id: string, scope: TenantScope = null): Promise<AllocationResponseDto> {
    const allocation = await this.allocations.findById(id);
    if (!allocation || (scope !== null && allocation.tenantId !== scope)) throw Problems.notFound(`allocation ${id}`);
    return (await this.toResponses([allocation]))[0];
  }

  async list(query: ListAllocationsQueryDto, scope: TenantScope = null): Promise<AllocationResponseDto[]> {
    let tenantId = query.tenant ? (await this.tenants.findBySlug(query.tenant))?.id : undefined;
    if (scope !== null) {
      if (query.tenant && tenantId !== scope) return [];
      tenantId = scope;
    }
    const hostId = query.host ? (await this.hosts.findLiveByName(query.host))?.id : undefined;
    if ((query.tenant && !tenantId) || (query.host && !hostId)) return [];
    const status = query.status === 'all' ? undefined : (query.status ?? 'active');
    const allocations = await this.allocations.list({ tenantId, hostId, status }, { limit: query.limit ?? DEFAULT_PAGE_LIMIT, offset: query.offset ?? 0 });
    return this.toResponses(allocations);
  }

  /** Releases an allocation and returns its capacity and quota. Releasing twice is harmless. */
  async release(id: string, actor: Actor): Promise<AllocationResponseDto> {
    const released = await this.unitOfWork.run(async (tx) => {
      // The allocation's row, then the tenant's quotas, then the host's inventories (as admission), in one statement.
      const allocation = await this.allocations.lockForRelease(id, tx);
      if (!allocation) throw Problems.notFound(`allocation ${id}`);
      if (allocation.status === 'released') return { allocation, changed: false };
      allocation.status = 'released';
      allocation.releasedAt = this.clock.now();
      const audit: AuditEntry = {
        actor,
        action: 'allocation.release',
        subjectType: 'allocation',
        subject: id,
        before: { status: 'active' },
        after: toAllocationResponse(allocation),
      };
      const pendingAudit = this.auditLog.pendingWrite(tx, audit);
      await this.allocations.recordRelease(allocation, allocation.releasedAt, pendingAudit ? [pendingAudit] : [], tx);
      if (!pendingAudit) await this.auditLog.record(tx, audit);
      this.followInCatalog(allocation.hostId, allocation.resources, -1, tx);
      return { allocation, changed: true };
    });
    return toAllocationResponse(released.allocation);
  }

  private async admitWithRetries(request: AdmissionRequest): Promise<AllocationResponseDto> {
    const mark = this.catalog.mark();
    for (let attempt = 1; ; attempt++) {
      // Any reload of the catalog happens here, before the transaction, so that it never waits for a pooled
      // connection while this request holds one.
      await this.catalog.refreshIfStale();
      try {
        return toAllocationResponse(await this.unitOfWork.run((tx) => this.admit(request, mark, tx)));
      } catch (error) {
        if (error instanceof NoCandidate) {
          // The view predates this request (other replicas write too): a host another replica created or an
          // allocation it released just before may be missing. Refused only on a view loaded since it began.
          await this.catalog.freshFrom(mark);
          continue;
        }
        if (!(error instanceof StaleCandidate)) throw error;
        if (attempt >= MAX_PLACEMENT_ATTEMPTS) {
          throw Problems.conflict('placement kept racing with concurrent changes to the hosts it chose; nothing was allocated, retry the request');
        }
        // Committed figures, read after the transaction: the rows seen under lock may since have been moved by other
        // work of the same group commit, which the catalog has already followed.
        await this.catalog.refreshHost(error.hostId);
      }
    }
  }

  private async admit(request: AdmissionRequest, mark: number, tx: EntityManager): Promise<AllocationRecord> {
    // The tenant read and its quota rows locked in one statement (on PostgreSQL every statement is a round trip).
    const found = await this.allocations.tenantWithLockedQuotas(request.tenant, tx);
    if (!found) throw Problems.notFound(`tenant ${request.tenant}`);
    const { tenant, quotas } = found;
    if (tenant.state === 'offboarded') throw Problems.conflict(`tenant ${tenant.slug} has been offboarded`);
    if (tenant.state === 'frozen') throw Problems.tenantFrozen(tenant.slug);

    const refusal = checkQuota(request.amounts, quotas);
    if (refusal) throw quotaExceeded(tenant.slug, refusal);

    const host = request.host ? await this.lockNamedHost(tenant, request, tx) : await this.lockBestHost(tenant, request, mark, tx);
    const allocation: AllocationRecord = {
      id: randomUUID(),
      tenantId: tenant.id,
      tenantSlug: tenant.slug,
      hostId: host.id,
      hostName: host.name,
      site: host.site,
      description: request.description,
      status: 'active',
      createdAt: this.clock.now(),
      releasedAt: null,
      resources: sortedAmounts(request.amounts),
    };
    const response = toAllocationResponse(allocation);
    const audit: AuditEntry = {
      actor: tokenActor(request.principal.tokenId),
      action: 'allocation.create',
      subjectType: 'allocation',
      subject: allocation.id,
      after: response,
    };
    // The rows, the sums, the idempotency record and (PostgreSQL) the audit event: one statement on PostgreSQL.
    const alongside: SqlWrite[] = [];
    if (request.idempotency) alongside.push(this.idempotency.insertWrite(this.record(request, 201, response, allocation.createdAt)));
    const pendingAudit = this.auditLog.pendingWrite(tx, audit);
    if (pendingAudit) alongside.push(pendingAudit);
    await this.allocations.recordAdmission(allocation, request.principal.tokenId, alongside, tx);
    if (!pendingAudit) await this.auditLog.record(tx, audit);
    // A host placement chose is already counted in the catalog (see lockBestHost).
    if (request.host) this.followInCatalog(host.id, allocation.resources, 1, tx);
    return allocation;
  }

  /**
   * Moves the catalog with this transaction's writes at once (undone if they are rolled back), so that the next
   * admission, which on SQLite may share this transaction's commit, already sees them.
   */
  private followInCatalog(hostId: string, amounts: ResourceAmounts, sign: 1 | -1, tx: EntityManager): void {
    this.catalog.applyAllocation(hostId, amounts, sign);
    this.unitOfWork.onRollback(tx, () => this.catalog.applyAllocation(hostId, amounts, -sign as 1 | -1));
  }

  private async lockNamedHost(tenant: AdmissionTenant, request: AdmissionRequest, tx: EntityManager): Promise<PlacementHostRow> {
    const hostId = await this.allocations.liveHostIdByName(request.host!, tx);
    const host = hostId ? await this.lockHost(hostId, tx) : null;
    if (!host) throw Problems.notFound(`host ${request.host}`);
    if (evaluateHost(tenant, host, request.amounts)) {
      throw insufficientCapacity(tenant.slug, request.amounts, explainRefusal(tenant, [host], request.amounts, REFUSAL_LIMITS));
    }
    return host;
  }

  private async lockBestHost(tenant: AdmissionTenant, request: AdmissionRequest, mark: number, tx: EntityManager): Promise<PlacementHostRow> {
    // Hosts passed over because another transaction holds their rows (PostgreSQL), in the order they were picked.
    const busy = new Set<CatalogHost>();
    for (;;) {
      // Chosen inside the transaction: on SQLite, where transactions run one at a time, the catalog is then exact.
      let choice = this.catalog.pick(tenant, request.amounts, request.strategy, busy);
      // Every host that may take the request is busy: wait for the first rather than refuse for want of capacity.
      const wait = !choice || busy.size >= MAX_BUSY_HOSTS_SKIPPED;
      if (!choice && busy.size > 0) choice = busy.values().next().value!;
      if (!choice) {
        if (this.catalog.staleFor(mark)) throw new NoCandidate();
        throw insufficientCapacity(tenant.slug, request.amounts, explainRefusal(tenant, this.catalog.snapshot(), request.amounts, REFUSAL_LIMITS));
      }
      // Counted in the catalog at once, before the lock (and undone if this transaction rolls back): on PostgreSQL the
      // admissions running meanwhile then pick other hosts, instead of all picking this one and queueing for its row
      // lock (which made a convoy of every admission in flight, p99 several seconds).
      this.followInCatalog(choice.id, request.amounts, 1, tx);
      // The catalog only guided the choice: the domain decides again on the host's rows as locked in this transaction.
      // Another replica's catalog may have sent its admissions to this host too: if one holds its rows, try the next
      // host rather than queue behind it (a few at most, then wait).
      const { host, busy: taken } = await this.hosts.lockPlacementHost(choice.id, tx, { skipLocked: !wait });
      if (taken) {
        this.followInCatalog(choice.id, request.amounts, -1, tx);
        busy.add(choice);
        continue;
      }
      if (!host || evaluateHost(tenant, host, request.amounts)) throw new StaleCandidate(choice.id);
      return host;
    }
  }

  private async lockHost(hostId: string, tx: EntityManager): Promise<PlacementHostRow | null> {
    return (await this.hosts.lockPlacementHost(hostId, tx)).host;
  }

  private replay(record: IdempotencyRecordEntity, requestHash: string): AllocationOutcome {
    if (record.requestHash !== requestHash) {
      throw Problems.conflict('this Idempotency-Key was already used with a different request');
    }
    return { status: record.statusCode, body: JSON.parse(record.body), replayed: true };
  }

  private async recordRefusal(request: AdmissionRequest, error: ProblemException): Promise<void> {
    const record = this.record(request, error.getStatus(), error.toProblem('/v1/allocations'), this.clock.now());
    await this.unitOfWork
      .run(async (tx) => {
        if (!(await this.idempotency.find(record.principal, record.key, tx))) await this.idempotency.insert(record, tx);
      })
      .catch((recordError) => {
        if (!isUniqueViolation(recordError)) throw recordError;
      });
  }

  private record(request: AdmissionRequest, statusCode: number, body: unknown, now: Date): IdempotencyRecordEntity {
    return Object.assign(new IdempotencyRecordEntity(), {
      principal: request.principal.tokenId,
      key: request.idempotency!.key,
      requestHash: request.idempotency!.requestHash,
      statusCode,
      body: JSON.stringify(body),
      createdAt: now,
    });
  }

  private async toResponses(allocations: AllocationEntity[]): Promise<AllocationResponseDto[]> {
    const slugs = await this.tenants.slugsByIds(allocations.map((allocation) => allocation.tenantId));
    const hosts = await this.hosts.namesByIds(allocations.map((allocation) => allocation.hostId));
    return allocations.map((allocation) => {
      const host = hosts.get(allocation.hostId);
      return toAllocationResponse({
        ...allocation,
        tenantSlug: slugs.get(allocation.tenantId) ?? '',
        hostName: host?.name ?? '',
        site: host?.site ?? '',
        resources: sortedAmounts(Object.fromEntries((allocation.items ?? []).map((item) => [item.resourceClass, item.amount]))),
      });
    });
  }
}

function sortedAmounts(amounts: ResourceAmounts): ResourceAmounts {
  return Object.fromEntries(
    Object.keys(amounts)
      .sort()
      .map((resourceClass) => [resourceClass, amounts[resourceClass]]),
  );
}
