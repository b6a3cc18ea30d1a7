import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { TenantEntity, TenantState, UnitOfWork } from '@dcm/persistence';
import { EntityManager } from 'typeorm';
import type { Actor } from '../common/actor';
import { AuditLog } from '../audit/audit-log';
import type { TenantScope } from '../common/principal';
import { Clock } from '../common/clock';
import { Problems } from '../common/problem';
import { CreateTenantDto, toTenantResponse, UpdateTenantDto } from './tenant.dto';
import { TenantsRepository } from './tenants.repository';

/**
 * What another feature does when a tenant is offboarded (auth revokes the tenant's tokens): `within` in the
 * offboarding's transaction, `afterCommit` once it is stored. Features register themselves, so imports point one way.
 */
export interface OffboardingStep {
  within(tenant: TenantEntity, now: Date, actor: Actor, tx: EntityManager): Promise<void>;
  afterCommit(): void;
}

@Injectable()
export class TenantsService {
  private readonly offboardingSteps: OffboardingStep[] = [];

  constructor(
    private readonly tenants: TenantsRepository,
    private readonly unitOfWork: UnitOfWork,
    private readonly clock: Clock,
    private readonly auditLog: AuditLog,
  ) {}

  async list(state?: TenantState, scope: TenantScope = null): Promise<TenantEntity[]> {
    const tenants = await this.tenants.list(state);
    return scope === null ? tenants : tenants.filter((tenant) => tenant.id === scope);
  }

  /** A tenant outside the caller's scope is not found, exactly like one that does not exist. */
  async get(slug: string, scope: TenantScope = null): Promise<TenantEntity> {
    const tenant = await this.tenants.findBySlug(slug);
    if (!tenant || (scope !== null && tenant.id !== scope)) throw Problems.notFound(`tenant ${slug}`);
    return tenant;
  }

  create(input: CreateTenantDto, actor: Actor): Promise<TenantEntity> {
    return this.unitOfWork.run((tx) => this.createWithin(input, actor, tx));
  }

  /** As create, inside the caller's transaction (the console's onboarding creates a tenant with its quotas at once). */
  async createWithin(input: CreateTenantDto, actor: Actor, tx: EntityManager): Promise<TenantEntity> {
    if (await this.tenants.findBySlug(input.slug, tx)) {
      throw Problems.conflict(`tenant ${input.slug} already exists (slugs are never reused, even after offboarding)`);
    }
    const now = this.clock.now();
    const tenant = Object.assign(new TenantEntity(), {
      id: randomUUID(),
      slug: input.slug,
      name: input.name,
      contact: input.contact ?? '',
      isolation: input.isolation ?? 'shared',
      classification: input.classification ?? 'OFFICIAL',
      state: 'active',
      createdAt: now,
      updatedAt: now,
      offboardedAt: null,
      frozenBy: null,
    } satisfies TenantEntity);
    const saved = await this.tenants.save(tenant, tx);
    await this.auditLog.record(tx, { actor, action: 'tenant.create', subjectType: 'tenant', subject: saved.slug, after: toTenantResponse(saved) });
    return saved;
  }

  update(slug: string, changes: UpdateTenantDto, actor: Actor): Promise<TenantEntity> {
    return this.unitOfWork.run(async (tx) => {
      const tenant = await this.tenants.lockBySlug(slug, tx);
      if (!tenant) throw Problems.notFound(`tenant ${slug}`);
      if (tenant.state === 'offboarded') throw Problems.conflict(`tenant ${slug} has been offboarded and can no longer change`);
      const placementChanges =
        (changes.isolation !== undefined && changes.isolation !== tenant.isolation) ||
        (changes.classification !== undefined && changes.classification !== tenant.classification);
      if (placementChanges && (await this.tenants.countActiveAllocations(tenant.id, tx)) > 0) {
        throw Problems.conflict(
          `tenant ${slug} has active allocations; release them before changing its isolation or classification, so that none is left on hardware it may not use`,
        );
      }
      const before = toTenantResponse(tenant);
      Object.assign(tenant, Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)), { updatedAt: this.clock.now() });
      // A freeze by hand stays until lifted by hand; the enforcement job lifts only the freezes it imposed.
      if (changes.state !== undefined) tenant.frozenBy = changes.state === 'frozen' ? 'operator' : null;
      const saved = await this.tenants.save(tenant, tx);
      await this.auditLog.record(tx, { actor, action: 'tenant.update', subjectType: 'tenant', subject: slug, before, after: toTenantResponse(saved) });
      return saved;
    });
  }

  onOffboarding(step: OffboardingStep): void {
    this.offboardingSteps.push(step);
  }

  /** Offboarding keeps the record (audit, showback) and refuses while the tenant still holds allocations. */
  async offboard(slug: string, actor: Actor): Promise<TenantEntity> {
    const offboarded = await this.unitOfWork.run(async (tx) => {
      const tenant = await this.tenants.lockBySlug(slug, tx);
      if (!tenant) throw Problems.notFound(`tenant ${slug}`);
      if (tenant.state === 'offboarded') return tenant;
      const active = await this.tenants.countActiveAllocations(tenant.id, tx);
      if (active > 0) throw Problems.conflict(`tenant ${slug} still has ${active} active allocation(s); release them first`, { activeAllocations: active });
      const before = toTenantResponse(tenant);
      const now = this.clock.now();
      Object.assign(tenant, { state: 'offboarded', offboardedAt: now, updatedAt: now });
      // A binding lets a host's agent speak for the tenant: none outlives it.
      await this.tenants.unbindHosts(tenant.id, tx);
      const saved = await this.tenants.save(tenant, tx);
      await this.auditLog.record(tx, { actor, action: 'tenant.offboard', subjectType: 'tenant', subject: slug, before, after: toTenantResponse(saved) });
      for (const step of this.offboardingSteps) await step.within(saved, now, actor, tx);
      return saved;
    });
    for (const step of this.offboardingSteps) step.afterCommit();
    return offboarded;
  }
}
