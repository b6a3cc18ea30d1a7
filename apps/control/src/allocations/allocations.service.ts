import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { checkQuota, evaluateHost, PlacementHost, PlacementStrategy, QuotaPosition, rankHosts, ResourceAmounts } from '@dcm/domain';
import { AllocationEntity, AllocationItemEntity, AllocationStatus, IdempotencyRecordEntity, InventoryEntity, TenantEntity, UnitOfWork } from '@dcm/persistence';
import { EntityManager, QueryFailedError } from 'typeorm';
import { Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import { ProblemDetails, ProblemException, Problems } from '../common/problem';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { HostsRepository } from '../hosts/hosts.repository';
import { CatalogHost, PlacementCatalog } from '../hosts/placement-catalog';
import { QuotasRepository } from '../quotas/quotas.repository';
import { ResourceClassesService } from '../resource-classes/resource-classes.service';
import { TenantsRepository } from '../tenants/tenants.repository';
import { AllocationResponseDto, CreateAllocationDto, ListAllocationsQueryDto } from './allocation.dto';
import { insufficientCapacity, quotaExceeded } from './allocation-problems';
import { AllocationsRepository } from './allocations.repository';
import { IdempotencyRepository } from './idempotency.repository';

/** How many times admission re-tries when the placement catalog proved stale for the host it picked. */
const MAX_PLACEMENT_ATTEMPTS = 5;

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
    private readonly quotas: QuotasRepository,
    private readonly hosts: HostsRepository,
    private readonly catalog: PlacementCatalog,
    private readonly resourceClasses: ResourceClassesService,
    private readonly unitOfWork: UnitOfWork,
    private readonly clock: Clock,
    @Inject(CONTROL_CONFIG) private readonly config: ControlConfig,
  ) {}

  /**
   * Admits an allocation atomically: quota check, placement, capacity check and insert in one transaction. With an
   * Idempotency-Key, the first outcome (success or refusal) is recorded and replayed to every retry.
   */
  async create(input: CreateAllocationDto, principal: Principal, idempotencyKey?: string): Promise<AllocationOutcome> {
    const amounts = await this.resourceClasses.parseAmounts(input.resources, 'resources');
    const request: AdmissionRequest = {
      tenant: input.tenant,
      amounts,
      host: input.host,
      description: input.description ?? '',
      strategy: input.strategy ?? this.config.placementStrategy,
      principal,
    };
    if (idempotencyKey !== undefined) {
      if (idempotencyKey.length === 0 || idempotencyKey.length > 255) throw Problems.validation('Idempotency-Key must be 1–255 characters');
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

  async get(id: string): Promise<AllocationResponseDto> {
    const allocation = await this.allocations.findById(id);
    if (!allocation) throw Problems.notFound(`allocation ${id}`);
    return (await this.toResponses([allocation]))[0];
  }

  async list(query: ListAllocationsQueryDto): Promise<AllocationResponseDto[]> {
    const tenantId = query.tenant ? (await this.tenants.findBySlug(query.tenant))?.id : undefined;
    const hostId = query.host ? (await this.hosts.findLiveByName(query.host))?.id : undefined;
    if ((query.tenant && !tenantId) || (query.host && !hostId)) return [];
    const status = query.status === 'all' ? undefined : (query.status ?? 'active');
    const allocations = await this.allocations.list({ tenantId, hostId, status }, { limit: query.limit ?? 100, offset: query.offset ?? 0 });
    return this.toResponses(allocations);
  }

  /** Releases an allocation and returns its capacity and quota. Releasing twice is harmless. */
  async release(id: string): Promise<AllocationResponseDto> {
    const released = await this.unitOfWork.run(async (tx) => {
      const allocation = await this.allocations.lockById(id, tx);
      if (!allocation) throw Problems.notFound(`allocation ${id}`);
      if (allocation.status === 'released') return { allocation, changed: false };
      // Lock order as in admission (tenant's quotas, then the host's inventories) so that the two never deadlock.
      await this.quotas.lockForTenant(allocation.tenantId, tx);
      await this.hosts.lockInventories(allocation.hostId, tx);
      allocation.status = 'released';
      allocation.releasedAt = this.clock.now();
      await this.allocations.markReleased(allocation, tx);
      await this.allocations.adjustAllocated(allocation.tenantId, allocation.hostId, allocation.items ?? [], -1, tx);
      return { allocation, changed: true };
    });
    if (released.changed) this.catalog.applyAllocation(released.allocation.hostId, amountsOf(released.allocation.items ?? []), -1);
    return (await this.toResponses([released.allocation]))[0];
  }

  private async admitWithRetries(request: AdmissionRequest): Promise<AllocationResponseDto> {
    for (let attempt = 1; ; attempt++) {
      try {
        const { allocation, host } = await this.unitOfWork.run((tx) => this.admit(request, tx));
        this.catalog.applyAllocation(host.id, request.amounts, 1);
        return this.toResponse(allocation, request.tenant, host);
      } catch (error) {
        if (!(error instanceof StaleCandidate)) throw error;
        if (attempt >= MAX_PLACEMENT_ATTEMPTS) {
          throw Problems.conflict('placement kept racing with concurrent changes to the hosts it chose; nothing was allocated, retry the request');
        }
        await this.catalog.refreshHost(error.hostId);
      }
    }
  }

  private async admit(
    request: AdmissionRequest,
    tx: EntityManager,
  ): Promise<{ allocation: AllocationEntity; host: { id: string; name: string; site: string } }> {
    const tenant = await this.tenants.findBySlug(request.tenant, tx);
    if (!tenant) throw Problems.notFound(`tenant ${request.tenant}`);
    if (tenant.state === 'offboarded') throw Problems.conflict(`tenant ${tenant.slug} has been offboarded`);
    if (tenant.state === 'frozen') throw Problems.tenantFrozen(tenant.slug);

    const quotaRows = await this.quotas.lockForTenant(tenant.id, tx);
    const positions: Record<string, QuotaPosition> = Object.fromEntries(
      quotaRows.map((quota) => [quota.resourceClass, { limit: quota.limit, allocated: quota.allocated }]),
    );
    const refusal = checkQuota(request.amounts, positions);
    if (refusal) throw quotaExceeded(tenant.slug, refusal);

    const host = request.host ? await this.lockNamedHost(tenant, request, tx) : await this.lockBestHost(tenant, request, tx);

    const now = this.clock.now();
    const allocation = Object.assign(new AllocationEntity(), {
      id: randomUUID(),
      tenantId: tenant.id,
      hostId: host.id,
      description: request.description,
      status: 'active' as AllocationStatus,
      createdBy: request.principal.tokenId,
      createdAt: now,
      releasedAt: null,
    });
    const items = Object.entries(request.amounts).map(([resourceClass, amount]) =>
      Object.assign(new AllocationItemEntity(), { allocationId: allocation.id, resourceClass, amount }),
    );
    await this.allocations.insert(allocation, items, tx);
    await this.allocations.adjustAllocated(tenant.id, host.id, items, 1, tx);
    allocation.items = items;
    if (request.idempotency) {
      const body = this.toResponse(allocation, tenant.slug, host);
      await this.idempotency.insert(this.record(request, 201, body, now), tx);
    }
    return { allocation, host };
  }

  private async lockNamedHost(tenant: TenantEntity, request: AdmissionRequest, tx: EntityManager) {
    const host = await this.hosts.findLiveByName(request.host!, tx);
    if (!host) throw Problems.notFound(`host ${request.host}`);
    const inventories = await this.hosts.lockInventories(host.id, tx);
    const dedicatedTenant = host.dedicatedTenantId ? ((await this.tenants.findById(host.dedicatedTenantId, tx))?.slug ?? null) : null;
    const rejection = evaluateHost(tenant, placementHost({ ...host, dedicatedTenant }, inventories), request.amounts);
    if (rejection) throw insufficientCapacity(tenant.slug, request.amounts, [rejection]);
    return host;
  }

  private async lockBestHost(tenant: TenantEntity, request: AdmissionRequest, tx: EntityManager) {
    const { candidates, rejections } = rankHosts(tenant, await this.catalog.current(), request.amounts, request.strategy);
    const best = candidates[0] as CatalogHost | undefined;
    if (!best) throw insufficientCapacity(tenant.slug, request.amounts, rejections);
    // The catalog only guided the choice: the domain decides again on the host's rows as locked in this transaction.
    const inventories = await this.hosts.lockInventories(best.id, tx);
    const host = await this.hosts.findLiveById(best.id, tx);
    if (!host || evaluateHost(tenant, placementHost({ ...host, dedicatedTenant: best.dedicatedTenant }, inventories), request.amounts)) {
      throw new StaleCandidate(best.id);
    }
    return host;
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
      return this.toResponse(allocation, slugs.get(allocation.tenantId) ?? '', { name: host?.name ?? '', site: host?.site ?? '' });
    });
  }

  private toResponse(allocation: AllocationEntity, tenant: string, host: { name: string; site: string }): AllocationResponseDto {
    return {
      id: allocation.id,
      tenant,
      host: host.name,
      site: host.site,
      resources: amountsOf(allocation.items ?? []),
      description: allocation.description,
      status: allocation.status,
      createdAt: allocation.createdAt.toISOString(),
      releasedAt: allocation.releasedAt?.toISOString() ?? null,
    };
  }
}

function amountsOf(items: AllocationItemEntity[]): ResourceAmounts {
  return Object.fromEntries([...items].sort((a, b) => a.resourceClass.localeCompare(b.resourceClass)).map((item) => [item.resourceClass, item.amount]));
}

function placementHost(host: Pick<PlacementHost, 'name' | 'status' | 'accreditation' | 'dedicatedTenant'>, inventories: InventoryEntity[]): PlacementHost {
  return {
    name: host.name,
    status: host.status,
    accreditation: host.accreditation,
    dedicatedTenant: host.dedicatedTenant,
    inventories: Object.fromEntries(inventories.map((inventory) => [inventory.resourceClass, inventory])),
  };
}

function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const driverError = error.driverError as { code?: string };
  return driverError.code === '23505' || driverError.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || driverError.code === 'SQLITE_CONSTRAINT_UNIQUE';
}
