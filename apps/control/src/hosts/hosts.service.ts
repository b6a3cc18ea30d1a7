import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { evaluateHost } from '@dcm/domain';
import { HostEntity, InventoryEntity, TenantEntity, UnitOfWork } from '@dcm/persistence';
import type { Report } from '@dcm/protocol';
import { EntityManager } from 'typeorm';
import type { Actor } from '../common/actor';
import { AuditLog } from '../audit/audit-log';
import { Clock } from '../common/clock';
import { Problems } from '../common/problem';
import { ResourceClassesService } from '../resource-classes/resource-classes.service';
import { TenantsRepository } from '../tenants/tenants.repository';
import { DEFAULT_PAGE_LIMIT } from '../common/paging';
import { CreateHostDto, HostFilter, HostResponseDto, toHostResponse, UpdateHostDto } from './host.dto';
import { HostsRepository } from './hosts.repository';
import { ParsedInventory, parseInventoryInput } from './inventory-input';
import { PlacementCatalog } from './placement-catalog';

/** What the audit log keeps of a host: what operators set, not what agents report. */
/** `dedicatedTenant`: the slug, as the API shows it (the id alone could not be replayed into what the API shows). */
function auditedHost(host: HostEntity, dedicatedTenant: string | null): Record<string, unknown> {
  return {
    name: host.name,
    site: host.site,
    rack: host.rack,
    labels: host.labels,
    accreditation: host.accreditation,
    dedicatedTenantId: host.dedicatedTenantId,
    dedicatedTenant,
    status: host.status,
    accepted: host.accepted,
  };
}

function auditedInventory(figures: ParsedInventory): ParsedInventory {
  const { total, reserved, allocationRatio, minUnit, maxUnit, stepSize } = figures;
  return { total, reserved, allocationRatio, minUnit, maxUnit, stepSize };
}

@Injectable()
export class HostsService {
  constructor(
    private readonly hosts: HostsRepository,
    private readonly tenants: TenantsRepository,
    private readonly resourceClasses: ResourceClassesService,
    private readonly catalog: PlacementCatalog,
    private readonly unitOfWork: UnitOfWork,
    private readonly clock: Clock,
    private readonly auditLog: AuditLog,
  ) {}

  /** Live hosts by name: every one that matches, or one page of them; `total` is how many match in all. */
  async list(filter: HostFilter, page?: { limit?: number; offset?: number }): Promise<{ hosts: HostResponseDto[]; total: number }> {
    const found =
      page?.limit === undefined && !page?.offset
        ? await this.hosts.listLive(filter).then((hosts) => ({ hosts, total: hosts.length }))
        : await this.hosts.pageLive(filter, { limit: page.limit ?? DEFAULT_PAGE_LIMIT, offset: page.offset ?? 0 });
    const slugs = await this.tenants.slugsByIds(found.hosts.flatMap((host) => (host.dedicatedTenantId ? [host.dedicatedTenantId] : [])));
    return { hosts: found.hosts.map((host) => this.toResponse(host, slugs)), total: found.total };
  }

  /** One host with its inventories, the tenants bound to it and, when its agent has reported, the latest measurements. */
  async get(name: string): Promise<HostResponseDto> {
    const host = await this.requireHost(name);
    const response = await this.respond(host);
    response.boundTenants = await this.hosts.boundTenantSlugs(host.id);
    const latest = await this.hosts.latestMeasurement(host.id);
    const report = latest?.report as Report | undefined;
    response.measurements =
      latest && report
        ? {
            seq: latest.seq,
            collectedAt: latest.collectedAt.toISOString(),
            receivedAt: latest.receivedAt.toISOString(),
            cpu: report.cpu,
            memory: report.memory,
            filesystems: report.filesystems,
            network: report.network,
            tenants: report.tenants,
          }
        : null;
    return response;
  }

  async create(input: CreateHostDto, actor: Actor): Promise<HostResponseDto> {
    const inventories = await this.parseInventories(input.inventories ?? {});
    const host = await this.unitOfWork.run(async (tx) => {
      if (await this.hosts.findLiveByName(input.name, tx)) throw Problems.conflict(`host ${input.name} already exists`);
      const now = this.clock.now();
      const host = Object.assign(new HostEntity(), {
        id: randomUUID(),
        name: input.name,
        site: input.site,
        rack: input.rack ?? null,
        labels: input.labels ?? {},
        accreditation: input.accreditation ?? 'OFFICIAL',
        dedicatedTenantId: input.dedicatedTenant ? (await this.requireTenant(input.dedicatedTenant, tx)).id : null,
        status: input.status ?? 'up',
        origin: 'operator',
        accepted: true,
        agentId: null,
        lastReportAt: null,
        createdAt: now,
        updatedAt: now,
        decommissionedAt: null,
      } satisfies HostEntity);
      await this.hosts.saveHost(host, tx);
      await this.hosts.saveInventories(
        Object.entries(inventories).map(([resourceClass, figures]) => this.inventoryEntity(host.id, resourceClass, figures, 0, null, now)),
        tx,
      );
      await this.auditLog.record(tx, {
        actor,
        action: 'host.create',
        subjectType: 'host',
        subject: host.name,
        after: { ...auditedHost(host, input.dedicatedTenant ?? null), inventories },
      });
      return host;
    });
    await this.catalog.refreshHost(host.id);
    return this.get(input.name);
  }

  async update(name: string, changes: UpdateHostDto, actor: Actor): Promise<HostResponseDto> {
    const host = await this.unitOfWork.run(async (tx) => {
      const host = await this.hosts.lockLiveByName(name, tx);
      if (!host) throw Problems.notFound(`host ${name}`);
      const dedicatedBefore = await this.dedicatedTenantOf(host);
      const before = auditedHost(host, dedicatedBefore);
      const { dedicatedTenant, ...rest } = changes;
      Object.assign(host, Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined)));
      if (dedicatedTenant !== undefined) host.dedicatedTenantId = dedicatedTenant === null ? null : (await this.requireTenant(dedicatedTenant, tx)).id;
      await this.refuseIfAllocationsWouldBreakRules(host, tx);
      host.updatedAt = this.clock.now();
      const after = auditedHost(host, dedicatedTenant === undefined ? dedicatedBefore : dedicatedTenant);
      if (changes.accepted === true && host.origin === 'agent') {
        const applied = await this.applyMeasuredTotals(host, host.updatedAt, tx);
        if (applied) {
          before.inventories = applied.before;
          after.inventories = applied.after;
        }
      }
      await this.auditLog.record(tx, { actor, action: 'host.update', subjectType: 'host', subject: name, before, after });
      return this.hosts.saveHost(host, tx);
    });
    await this.catalog.refreshHost(host.id);
    return this.get(name);
  }

  async setInventory(name: string, resourceClass: string, raw: unknown, actor: Actor): Promise<HostResponseDto> {
    const unit = (await this.resourceClasses.exists(resourceClass)) ? this.resourceClasses.unitOf(resourceClass) : undefined;
    if (!unit) throw Problems.notFound(`resource class ${resourceClass}`);
    const figures = parseInventoryInput(raw, resourceClass, unit, resourceClass);
    if (Array.isArray(figures)) throw Problems.validation(figures.join('; '), figures);
    const host = await this.unitOfWork.run(async (tx) => {
      const host = await this.requireHost(name, tx);
      const current = (await this.hosts.lockInventories(host.id, tx)).find((inventory) => inventory.resourceClass === resourceClass);
      const now = this.clock.now();
      await this.hosts.saveInventories(
        [this.inventoryEntity(host.id, resourceClass, figures, current?.allocated ?? 0, current?.measuredTotal ?? null, now)],
        tx,
      );
      // From now on the operator's inventory stands: the agent's totals are shown beside it, not applied.
      Object.assign(host, { origin: 'operator', updatedAt: now });
      await this.hosts.saveHost(host, tx);
      await this.auditLog.record(tx, {
        actor,
        action: 'inventory.set',
        subjectType: 'host',
        subject: name,
        before: current ? { resourceClass, ...auditedInventory(current) } : null,
        after: { resourceClass, ...auditedInventory(figures) },
      });
      return host;
    });
    await this.catalog.refreshHost(host.id);
    return this.get(name);
  }

  /**
   * Binds a tenant to a host, so that the host's agent may report the tenant's use without an allocation there (an
   * agent speaks only for tenants with an active allocation on its host or bound to it). Binding again changes nothing.
   */
  async bindTenant(name: string, slug: string, actor: Actor): Promise<HostResponseDto> {
    await this.unitOfWork.run(async (tx) => {
      const host = await this.requireHost(name, tx);
      const tenant = await this.tenants.findBySlug(slug, tx);
      if (!tenant || tenant.state === 'offboarded') throw Problems.notFound(`tenant ${slug}`);
      if (await this.hosts.isBound(host.id, tenant.id, tx)) return;
      await this.hosts.bindTenant(host.id, tenant.id, this.clock.now(), tx);
      await this.auditLog.record(tx, {
        actor,
        action: 'host.bind-tenant',
        subjectType: 'host-tenant',
        subject: `${name}/${slug}`,
        after: { host: name, tenant: slug },
      });
    });
    return this.get(name);
  }

  /** Ends a binding; 404 when the tenant is not bound to the host. */
  async unbindTenant(name: string, slug: string, actor: Actor): Promise<HostResponseDto> {
    await this.unitOfWork.run(async (tx) => {
      const host = await this.requireHost(name, tx);
      const tenant = await this.tenants.findBySlug(slug, tx);
      if (!tenant || !(await this.hosts.isBound(host.id, tenant.id, tx))) throw Problems.notFound(`binding of tenant ${slug} to host ${name}`);
      await this.hosts.unbindTenants({ hostId: host.id, tenantId: tenant.id }, tx);
      await this.auditLog.record(tx, {
        actor,
        action: 'host.unbind-tenant',
        subjectType: 'host-tenant',
        subject: `${name}/${slug}`,
        before: { host: name, tenant: slug },
      });
    });
    return this.get(name);
  }

  /** Decommissioning keeps the record for history; it is refused while allocations are active on the host. */
  async decommission(name: string, actor: Actor): Promise<HostResponseDto> {
    const host = await this.unitOfWork.run(async (tx) => {
      const host = await this.requireHost(name, tx);
      const active = await this.hosts.countActiveAllocations(host.id, tx);
      if (active > 0)
        throw Problems.conflict(`host ${name} still has ${active} active allocation(s); release or move them first`, { activeAllocations: active });
      const now = this.clock.now();
      Object.assign(host, { decommissionedAt: now, updatedAt: now });
      // A binding lets the host's agent speak for a tenant: none outlives the host.
      await this.hosts.unbindTenants({ hostId: host.id }, tx);
      const before = auditedHost(host, await this.dedicatedTenantOf(host));
      await this.auditLog.record(tx, { actor, action: 'host.decommission', subjectType: 'host', subject: name, before });
      return this.hosts.saveHost(host, tx);
    });
    await this.catalog.refreshHost(host.id);
    return this.toResponse(host, await this.tenants.slugsByIds(host.dedicatedTenantId ? [host.dedicatedTenantId] : []));
  }

  /**
   * Accepting a host its agent sized (again) takes what the agent last measured as its totals: an accepted host's
   * measured rises wait for this (see AgentsService.syncInventories). The totals before and after, for the audit log;
   * null when nothing changed.
   */
  private async applyMeasuredTotals(host: HostEntity, now: Date, tx: EntityManager) {
    const rising = (await this.hosts.lockInventories(host.id, tx)).filter(
      (inventory) => inventory.measuredTotal !== null && inventory.measuredTotal !== inventory.total,
    );
    if (rising.length === 0) return null;
    const before = Object.fromEntries(rising.map((inventory) => [inventory.resourceClass, { total: inventory.total }]));
    for (const inventory of rising) Object.assign(inventory, { total: inventory.measuredTotal, updatedAt: now });
    await this.hosts.saveInventories(rising, tx);
    const after = Object.fromEntries(rising.map((inventory) => [inventory.resourceClass, { total: inventory.total }]));
    return { before, after };
  }

  private async respond(host: HostEntity): Promise<HostResponseDto> {
    return this.toResponse(host, await this.tenants.slugsByIds(host.dedicatedTenantId ? [host.dedicatedTenantId] : []));
  }

  private async requireHost(name: string, tx?: EntityManager): Promise<HostEntity> {
    const host = await this.hosts.findLiveByName(name, tx);
    if (!host) throw Problems.notFound(`host ${name}`);
    return host;
  }

  private async dedicatedTenantOf(host: HostEntity): Promise<string | null> {
    if (!host.dedicatedTenantId) return null;
    return (await this.tenants.slugsByIds([host.dedicatedTenantId])).get(host.dedicatedTenantId) ?? null;
  }

  private async requireTenant(slug: string, tx: EntityManager): Promise<TenantEntity> {
    const tenant = await this.tenants.findBySlug(slug, tx);
    if (!tenant || tenant.state === 'offboarded') throw Problems.validation(`dedicatedTenant: tenant ${slug} does not exist`);
    return tenant;
  }

  /** Accreditation and dedication may change only if every tenant already on the host could still be placed there. */
  private async refuseIfAllocationsWouldBreakRules(host: HostEntity, tx: EntityManager): Promise<void> {
    const tenantIds = await this.hosts.activeTenantIds(host.id, tx);
    if (tenantIds.length === 0) return;
    const dedicatedSlug = host.dedicatedTenantId ? ((await this.tenants.findById(host.dedicatedTenantId, tx))?.slug ?? null) : null;
    const asPlaced = {
      name: host.name,
      status: 'up' as const,
      accreditation: host.accreditation,
      dedicatedTenant: dedicatedSlug,
      accepted: true,
      inventories: {},
    };
    for (const tenantId of tenantIds) {
      const tenant = await this.tenants.findById(tenantId, tx);
      if (!tenant) continue;
      const rejection = evaluateHost(tenant, asPlaced, {});
      if (rejection) {
        throw Problems.conflict(`host ${host.name} holds allocations of tenant ${tenant.slug} that this change would break: ${rejection.reasons.join('; ')}`);
      }
    }
  }

  private async parseInventories(input: Record<string, unknown>): Promise<Record<string, ParsedInventory>> {
    const parsed: Record<string, ParsedInventory> = {};
    const errors: string[] = [];
    for (const [resourceClass, raw] of Object.entries(input)) {
      const unit = (await this.resourceClasses.exists(resourceClass)) ? this.resourceClasses.unitOf(resourceClass) : undefined;
      if (!unit) {
        errors.push(`inventories.${resourceClass.slice(0, 64)}: unknown resource class`);
        continue;
      }
      const figures = parseInventoryInput(raw, resourceClass, unit, `inventories.${resourceClass}`);
      if (Array.isArray(figures)) errors.push(...figures);
      else parsed[resourceClass] = figures;
    }
    if (errors.length > 0) throw Problems.validation(errors.join('; '), errors);
    return parsed;
  }

  private inventoryEntity(
    hostId: string,
    resourceClass: string,
    figures: ParsedInventory,
    allocated: number,
    measuredTotal: number | null,
    now: Date,
  ): InventoryEntity {
    return Object.assign(new InventoryEntity(), { hostId, resourceClass, ...figures, allocated, measuredTotal, updatedAt: now });
  }

  toResponse(host: HostEntity, tenantSlugs: Map<string, string>): HostResponseDto {
    return toHostResponse(host, tenantSlugs, (resourceClass) => this.resourceClasses.unitOf(resourceClass));
  }
}
