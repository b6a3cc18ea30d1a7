import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { SurgeGrantEntity, UnitOfWork } from '@dcm/persistence';
import { EntityManager } from 'typeorm';
import type { Actor } from '../common/actor';
import { AuditLog } from '../audit/audit-log';
import type { TenantScope } from '../common/principal';
import { Clock } from '../common/clock';
import { Problems } from '../common/problem';
import { QuotasRepository } from '../quotas/quotas.repository';
import { ResourceClassesService } from '../resource-classes/resource-classes.service';
import { TenantsRepository } from '../tenants/tenants.repository';
import { TenantsService } from '../tenants/tenants.service';
import { CreateGrantDto, GrantResponseDto, toGrantResponse } from './grant.dto';
import { GrantsRepository, GrantWithItems } from './grants.repository';

/** A surge is for an incident or a migration, not a quota by the back door. */
const MAX_GRANT_DAYS = 366;
const EXPIRY_BATCH = 100;

@Injectable()
export class GrantsService {
  private readonly logger = new Logger(GrantsService.name);

  constructor(
    private readonly grants: GrantsRepository,
    private readonly quotas: QuotasRepository,
    private readonly tenants: TenantsService,
    private readonly tenantsRepository: TenantsRepository,
    private readonly resourceClasses: ResourceClassesService,
    private readonly unitOfWork: UnitOfWork,
    private readonly clock: Clock,
    private readonly auditLog: AuditLog,
  ) {}

  /** Lifts the tenant's effective limits by the grant's amounts until it expires or is revoked. */
  async create(slug: string, input: CreateGrantDto, actor: Actor): Promise<GrantResponseDto> {
    const resources = await this.resourceClasses.parseAmounts(input.resources, 'resources');
    const now = this.clock.now();
    const expiresAt = input.expiresAt;
    if (expiresAt.getTime() <= now.getTime()) throw Problems.validation('expiresAt: must be in the future');
    if (expiresAt.getTime() > now.getTime() + MAX_GRANT_DAYS * 86_400_000) throw Problems.validation(`expiresAt: must be at most ${MAX_GRANT_DAYS} days ahead`);
    const zero = Object.entries(resources).filter(([, amount]) => amount <= 0);
    if (zero.length > 0) throw Problems.validation(`resources: a grant adds a positive amount (${zero.map(([name]) => name).join(', ')})`);

    return this.unitOfWork.run(async (tx) => {
      const tenant = await this.tenantsRepository.findBySlug(slug, tx);
      if (!tenant) throw Problems.notFound(`tenant ${slug}`);
      if (tenant.state === 'offboarded') throw Problems.conflict(`tenant ${slug} has been offboarded`);
      const quotaClasses = new Set((await this.quotas.lockForTenant(tenant.id, tx)).map((quota) => quota.resourceClass));
      const withoutQuota = Object.keys(resources).filter((name) => !quotaClasses.has(name));
      if (withoutQuota.length > 0) {
        throw Problems.conflict(`tenant ${slug} has no quota for ${withoutQuota.join(', ')}: a grant raises a quota, so set one (it may be 0) first`, {
          resources: withoutQuota,
        });
      }
      const grant = Object.assign(new SurgeGrantEntity(), {
        id: randomUUID(),
        tenantId: tenant.id,
        reason: input.reason,
        createdBy: actor,
        createdAt: now,
        expiresAt,
        endedAt: null,
        endReason: null,
      } satisfies SurgeGrantEntity);
      await this.grants.insert(grant, resources, tx);
      await this.quotas.recomputeGranted(tenant.id, tx);
      const response = toGrantResponse(grant, slug, resources);
      await this.auditLog.record(tx, { actor, action: 'grant.create', subjectType: 'grant', subject: grant.id, after: response });
      return response;
    });
  }

  async list(slug: string, includeEnded: boolean, scope: TenantScope = null): Promise<GrantResponseDto[]> {
    const tenant = await this.tenants.get(slug, scope);
    return (await this.grants.forTenant(tenant.id, includeEnded)).map(({ grant, resources }) => toGrantResponse(grant, slug, resources));
  }

  /** Ends a running grant early; revoking one that has already ended changes nothing. */
  revoke(slug: string, id: string, actor: Actor): Promise<GrantResponseDto> {
    return this.unitOfWork.run(async (tx) => {
      const tenant = await this.tenantsRepository.findBySlug(slug, tx);
      const found = tenant ? await this.grants.lockForTenant(tenant.id, id, tx) : null;
      if (!tenant || !found) throw Problems.notFound(`grant ${id} of tenant ${slug}`);
      if (found.grant.endedAt === null) await this.end(found, slug, 'revoked', actor, tx);
      return toGrantResponse(found.grant, slug, found.resources);
    });
  }

  /** Ends every grant whose time is up (the scheduler's grant-expiry job); returns how many ended. */
  async expire(): Promise<number> {
    let ended = 0;
    for (;;) {
      const batch = await this.unitOfWork.run(async (tx) => {
        const expired = await this.grants.lockExpired(this.clock.now(), EXPIRY_BATCH, tx);
        const slugs = await this.tenantsRepository.slugsByIds(expired.map(({ grant }) => grant.tenantId));
        for (const found of expired) await this.end(found, slugs.get(found.grant.tenantId) ?? found.grant.tenantId, 'expired', 'system:grants', tx);
        return expired.length;
      });
      ended += batch;
      if (batch < EXPIRY_BATCH) break;
    }
    if (ended > 0) this.logger.log(`${ended} surge grant(s) expired`);
    return ended;
  }

  private async end(found: GrantWithItems, slug: string, reason: 'expired' | 'revoked', actor: Actor, tx: EntityManager): Promise<void> {
    const { grant } = found;
    const before = toGrantResponse(grant, slug, found.resources);
    // An expired grant ends at its expiry, even when the job sees it a few seconds later.
    grant.endedAt = reason === 'expired' ? grant.expiresAt : this.clock.now();
    grant.endReason = reason;
    await this.grants.end(grant, tx);
    await this.quotas.recomputeGranted(grant.tenantId, tx);
    const action = reason === 'expired' ? 'grant.expire' : 'grant.revoke';
    await this.auditLog.record(tx, { actor, action, subjectType: 'grant', subject: grant.id, before, after: toGrantResponse(grant, slug, found.resources) });
  }
}
