import { Inject, Injectable } from '@nestjs/common';
import { measuredUseSince, ResourceAmounts } from '@dcm/domain';
import { QuotaEntity, UnitOfWork } from '@dcm/persistence';
import { EntityManager } from 'typeorm';
import type { Actor } from '../common/actor';
import { AuditLog } from '../audit/audit-log';
import type { TenantScope } from '../common/principal';
import { Clock } from '../common/clock';
import { Problems } from '../common/problem';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { ResourceClassesService } from '../resource-classes/resource-classes.service';
import { TenantsRepository } from '../tenants/tenants.repository';
import { TenantsService } from '../tenants/tenants.service';
import { TenantQuotasResponseDto, toQuotaPosition } from './quota.dto';
import { QuotasRepository } from './quotas.repository';

@Injectable()
export class QuotasService {
  constructor(
    private readonly quotas: QuotasRepository,
    private readonly tenants: TenantsService,
    private readonly tenantsRepository: TenantsRepository,
    private readonly resourceClasses: ResourceClassesService,
    private readonly unitOfWork: UnitOfWork,
    private readonly clock: Clock,
    @Inject(CONTROL_CONFIG) private readonly config: ControlConfig,
    private readonly auditLog: AuditLog,
  ) {}

  async positions(slug: string, scope: TenantScope = null): Promise<TenantQuotasResponseDto> {
    const tenant = await this.tenants.get(slug, scope);
    const quotas = await this.quotas.positions(measuredUseSince(this.clock.now(), this.config), tenant.id);
    return {
      tenant: slug,
      quotas: Object.fromEntries(
        quotas.map((quota) => [
          quota.resourceClass,
          toQuotaPosition(quota, this.resourceClasses.unitOf(quota.resourceClass) ?? 'count', this.config.quotaWarningRatio),
        ]),
      ),
    };
  }

  /**
   * Replaces the tenant's quotas with `input`. A class left out loses its quota (and so can no longer be allocated),
   * which is refused while the tenant holds some of it: set it to 0 to stop further allocations instead.
   */
  async replace(slug: string, input: unknown, actor: Actor): Promise<TenantQuotasResponseDto> {
    const limits = await this.parseLimits(input);
    await this.unitOfWork.run((tx) => this.replaceWithin(slug, limits, actor, tx));
    return this.positions(slug);
  }

  /** Parses quota limits as replace takes them (a class's unit, byte suffixes), before any transaction. */
  parseLimits(input: unknown): Promise<ResourceAmounts> {
    return this.resourceClasses.parseAmounts(input, 'quotas', { allowEmpty: true });
  }

  /** As replace, with limits parsed by parseLimits, inside the caller's transaction (the console's onboarding). */
  async replaceWithin(slug: string, limits: ResourceAmounts, actor: Actor, tx: EntityManager): Promise<void> {
    const tenant = await this.tenantsRepository.findBySlug(slug, tx);
    if (!tenant) throw Problems.notFound(`tenant ${slug}`);
    if (tenant.state === 'offboarded') throw Problems.conflict(`tenant ${slug} has been offboarded`);
    const current = await this.quotas.lockForTenant(tenant.id, tx);
    const dropped = current.filter((quota) => !(quota.resourceClass in limits));
    const stillHeld = dropped.filter((quota) => quota.allocated > 0).map((quota) => quota.resourceClass);
    if (stillHeld.length > 0) {
      throw Problems.conflict(`tenant ${slug} still holds allocations of ${stillHeld.join(', ')}; set the limit to 0 instead of removing the quota`, {
        resources: stillHeld,
      });
    }
    // Taken before the entities below are updated in place: they are the same objects.
    const before = Object.fromEntries(current.map((quota) => [quota.resourceClass, quota.limit]));
    const now = this.clock.now();
    const byClass = new Map(current.map((quota) => [quota.resourceClass, quota]));
    // A new quota starts `ok` (nothing allocated yet); from then on only the enforcement job moves its state.
    const fresh = (resourceClass: string) =>
      Object.assign(new QuotaEntity(), { tenantId: tenant.id, resourceClass, allocated: 0, granted: 0, state: 'ok', stateSince: now });
    const updated = Object.entries(limits).map(([resourceClass, limit]) =>
      Object.assign(byClass.get(resourceClass) ?? fresh(resourceClass), {
        limit,
        updatedAt: now,
      }),
    );
    await this.quotas.remove(dropped, tx);
    await this.quotas.save(updated, tx);
    // A quota set again for a class the tenant has a running grant of takes that grant in at once.
    await this.quotas.recomputeGranted(tenant.id, tx);
    await this.auditLog.record(tx, {
      actor,
      action: 'quota.set',
      subjectType: 'tenant',
      subject: slug,
      before,
      after: limits,
    });
  }
}
