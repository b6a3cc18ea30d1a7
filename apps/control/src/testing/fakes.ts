/**
 * Typed fakes for service specs, in one place. Each factory fakes a Pick of the real class: the methods the services
 * under test call, with their real signatures (a fake that drifts from its class no longer compiles), every method a
 * jest.fn to assert on. `asDependency` is the one cast, where a fake stands in for the whole class in a constructor.
 */
import type { ResourceAmounts } from '@dcm/domain';
import { QuotaEntity } from '@dcm/persistence';
import type { IdempotencyRecordEntity, TenantEntity, TokenEntity, UnitOfWork } from '@dcm/persistence';
import type { EntityManager } from 'typeorm';
import type { AllocationsRepository } from '../allocations/allocations.repository';
import type { IdempotencyRepository } from '../allocations/idempotency.repository';
import type { AuditLog } from '../audit/audit-log';
import type { TokenUsage } from '../auth/token-usage';
import type { TokensRepository } from '../auth/tokens.repository';
import type { Clock } from '../common/clock';
import type { EnforcementEvent, EnforcementEventSink } from '../enforcement/enforcement-events';
import type { EnforcementRepository } from '../enforcement/enforcement.repository';
import type { GrantsRepository, GrantWithItems } from '../grants/grants.repository';
import type { HostsRepository } from '../hosts/hosts.repository';
import type { PlacementCatalog } from '../hosts/placement-catalog';
import type { ResourceClassesService } from '../resource-classes/resource-classes.service';
import type { QuotaPositionRow, QuotasRepository } from '../quotas/quotas.repository';
import type { MetricsRecorder } from '../telemetry/process-metrics';
import type { TenantsRepository } from '../tenants/tenants.repository';

type Method = (...args: never[]) => unknown;
/** `T` with each method a jest.fn of the same signature. */
export type Fake<T> = { [K in keyof T]: T[K] extends Method ? jest.MockedFunction<T[K]> & T[K] : T[K] };

/** Wraps every method of `methods` in a jest.fn that calls it. */
export function fake<T extends object>(methods: T): Fake<T> {
  return Object.fromEntries(Object.entries(methods).map(([name, value]) => [name, typeof value === 'function' ? jest.fn(value as Method) : value])) as Fake<T>;
}

/** A fake where its class is expected: the only cast between a fake and what it stands in for. */
export function asDependency<T>(fake: Partial<NoInfer<T>>): T {
  return fake as T;
}

/** The entity manager a fake unit of work hands its work: fakes of repositories ignore it. */
export const FAKE_MANAGER = {} as EntityManager;

export type FakeUnitOfWork = Fake<Pick<UnitOfWork, 'run' | 'onRollback'>>;

/** Runs each piece of work at once with FAKE_MANAGER; rollback undos are kept and run when the work fails. */
export function fakeUnitOfWork(): FakeUnitOfWork {
  let undos: (() => void)[] = [];
  return fake<Pick<UnitOfWork, 'run' | 'onRollback'>>({
    async run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
      undos = [];
      try {
        return await work(FAKE_MANAGER);
      } catch (error) {
        for (const undo of undos.reverse()) undo();
        throw error;
      }
    },
    onRollback(_manager: EntityManager, undo: () => void): void {
      undos.push(undo);
    },
  });
}

/** A clock standing at `at` until a test moves it (clock.now.mockReturnValue). */
export function fakeClock(at = new Date('2026-12-01T12:00:00Z')): Fake<Pick<Clock, 'now'>> {
  return fake<Pick<Clock, 'now'>>({ now: () => at });
}

/** An audit log as on SQLite: events are recorded with record() (pendingWrite answers null). */
export function fakeAuditLog(): Fake<Pick<AuditLog, 'record' | 'pendingWrite'>> {
  return fake<Pick<AuditLog, 'record' | 'pendingWrite'>>({ record: async () => undefined, pendingWrite: () => null });
}

export function fakeMetricsRecorder(): Fake<Pick<MetricsRecorder, 'countAllocationRequest'>> {
  return fake<Pick<MetricsRecorder, 'countAllocationRequest'>>({ countAllocationRequest: () => undefined });
}

/** Amounts as given (integers of each class's unit), as ResourceClassesService parses them for known classes. */
export function fakeResourceClasses(): Fake<Pick<ResourceClassesService, 'parseAmounts'>> {
  return fake<Pick<ResourceClassesService, 'parseAmounts'>>({ parseAmounts: async (input) => ({ ...(input as ResourceAmounts) }) });
}

/** Idempotency records kept in memory, by principal and key, as the table keeps them. */
/** Idempotency records kept in memory; a record handed out as a write (insertWrite) counts as written. */
export function fakeIdempotency(): Fake<Pick<IdempotencyRepository, 'find' | 'insert' | 'insertWrite'>> & { records: Map<string, IdempotencyRecordEntity> } {
  const records = new Map<string, IdempotencyRecordEntity>();
  return Object.assign(
    fake<Pick<IdempotencyRepository, 'find' | 'insert' | 'insertWrite'>>({
      find: async (principal, key) => records.get(`${principal} ${key}`) ?? null,
      insert: async (record) => void records.set(`${record.principal} ${record.key}`, record),
      insertWrite: (record) => {
        records.set(`${record.principal} ${record.key}`, record);
        return { sql: 'INSERT INTO idempotency_records …', parameters: [] };
      },
    }),
    { records },
  );
}

type AllocationsRepositoryMethods = 'tenantWithLockedQuotas' | 'liveHostIdByName' | 'recordAdmission';
export type FakeAllocationsRepository = Fake<Pick<AllocationsRepository, AllocationsRepositoryMethods>>;

export function fakeAllocationsRepository(overrides: Partial<FakeAllocationsRepository> = {}): FakeAllocationsRepository {
  return {
    ...fake<Pick<AllocationsRepository, AllocationsRepositoryMethods>>({
      tenantWithLockedQuotas: async () => null,
      liveHostIdByName: async () => null,
      recordAdmission: async () => undefined,
    }),
    ...overrides,
  };
}

export function fakeHostsRepository(): Fake<Pick<HostsRepository, 'lockPlacementHost'>> {
  return fake<Pick<HostsRepository, 'lockPlacementHost'>>({ lockPlacementHost: async () => ({ host: null, busy: false }) });
}

type PlacementCatalogMethods = 'refreshIfStale' | 'refreshHost' | 'pick' | 'snapshot' | 'applyAllocation' | 'mark' | 'staleFor' | 'freshFrom';

/** A catalog of one process's database (SQLite): never stale for a request. */
export function fakePlacementCatalog(): Fake<Pick<PlacementCatalog, PlacementCatalogMethods>> {
  return fake<Pick<PlacementCatalog, PlacementCatalogMethods>>({
    mark: () => 0,
    staleFor: () => false,
    freshFrom: async () => undefined,
    refreshIfStale: async () => undefined,
    refreshHost: async () => undefined,
    pick: () => null,
    snapshot: () => [],
    applyAllocation: () => undefined,
  });
}

type TenantsRepositoryMethods = 'findBySlug' | 'lockBySlug' | 'slugsByIds' | 'save' | 'countActiveAllocations' | 'unbindHosts';

/** Tenants kept in memory by slug; save stores what it is given. */
export function fakeTenantsRepository(
  ...tenants: TenantEntity[]
): Fake<Pick<TenantsRepository, TenantsRepositoryMethods>> & { stored: Map<string, TenantEntity>; activeAllocations: Map<string, number> } {
  const stored = new Map(tenants.map((tenant) => [tenant.slug, tenant]));
  const activeAllocations = new Map<string, number>();
  return Object.assign(
    fake<Pick<TenantsRepository, TenantsRepositoryMethods>>({
      findBySlug: async (slug) => stored.get(slug) ?? null,
      lockBySlug: async (slug) => stored.get(slug) ?? null,
      slugsByIds: async (ids) => new Map([...stored.values()].filter((tenant) => ids.includes(tenant.id)).map((tenant) => [tenant.id, tenant.slug])),
      save: async (tenant) => (stored.set(tenant.slug, tenant), tenant),
      countActiveAllocations: async (tenantId) => activeAllocations.get(tenantId) ?? 0,
      unbindHosts: async () => undefined,
    }),
    { stored, activeAllocations },
  );
}

export function fakeQuotasRepository(positions: QuotaPositionRow[] = []): Fake<Pick<QuotasRepository, 'positions'>> {
  return fake<Pick<QuotasRepository, 'positions'>>({ positions: async () => positions });
}

/** Enforcement's writes, each succeeding as if the tenant were still in the state it expects. */
export function fakeEnforcementRepository(): Fake<Pick<EnforcementRepository, 'saveQuotaStates' | 'freeze' | 'unfreeze'>> {
  return fake<Pick<EnforcementRepository, 'saveQuotaStates' | 'freeze' | 'unfreeze'>>({
    saveQuotaStates: async () => undefined,
    freeze: async () => true,
    unfreeze: async () => true,
  });
}

/** A sink keeping every enforcement event it is given. */
export function fakeEnforcementSink(): Fake<EnforcementEventSink> & { events: EnforcementEvent[] } {
  const events: EnforcementEvent[] = [];
  return Object.assign(fake<EnforcementEventSink>({ record: async (recorded) => void events.push(...recorded) }), { events });
}

type GrantsRepositoryMethods = 'insert' | 'lockForTenant' | 'lockExpired' | 'end';

/** Surge grants kept in memory with their amounts; lockExpired gives the running ones whose time is up. */
export function fakeGrantsRepository(): Fake<Pick<GrantsRepository, GrantsRepositoryMethods>> & { stored: Map<string, GrantWithItems> } {
  const stored = new Map<string, GrantWithItems>();
  return Object.assign(
    fake<Pick<GrantsRepository, GrantsRepositoryMethods>>({
      insert: async (grant, resources) => void stored.set(grant.id, { grant, resources }),
      lockForTenant: async (tenantId, id) => (stored.get(id)?.grant.tenantId === tenantId ? stored.get(id)! : null),
      lockExpired: async (now, limit) =>
        [...stored.values()].filter(({ grant }) => grant.endedAt === null && grant.expiresAt.getTime() <= now.getTime()).slice(0, limit),
      end: async () => undefined,
    }),
    { stored },
  );
}

/** Quotas of the classes named, for lockForTenant; recomputeGranted records its calls only. */
export function fakeQuotasForGrants(...resourceClasses: string[]): Fake<Pick<QuotasRepository, 'lockForTenant' | 'recomputeGranted'>> {
  return fake<Pick<QuotasRepository, 'lockForTenant' | 'recomputeGranted'>>({
    lockForTenant: async (tenantId) => resourceClasses.map((resourceClass) => Object.assign(new QuotaEntity(), { tenantId, resourceClass })),
    recomputeGranted: async () => undefined,
  });
}

type TokensRepositoryMethods = 'save' | 'findById' | 'credentialBySecretHash' | 'liveHostExists' | 'countRevocation' | 'revocationCount';

/** Tokens kept in memory by id; credentials read from them as the table would give them, revocations counted. */
export function fakeTokensRepository(): Fake<Pick<TokensRepository, TokensRepositoryMethods>> & { stored: Map<string, TokenEntity> } {
  const stored = new Map<string, TokenEntity>();
  let revocations = 0;
  return Object.assign(
    fake<Pick<TokensRepository, TokensRepositoryMethods>>({
      save: async (token) => (stored.set(token.id, { ...token }), token),
      findById: async (id) => (stored.has(id) ? { ...stored.get(id)! } : null),
      credentialBySecretHash: async (secretHash) => {
        const token = [...stored.values()].find((candidate) => candidate.secretHash === secretHash);
        if (!token) return null;
        const { id, kind, role, tenantId } = token;
        return { id, kind, role, tenantId, secretHash, expiresAt: token.expiresAt?.getTime() ?? null, revokedAt: token.revokedAt?.getTime() ?? null };
      },
      liveHostExists: async () => false,
      countRevocation: async () => void revocations++,
      revocationCount: async () => revocations,
    }),
    { stored },
  );
}

export function fakeTokenUsage(): Fake<Pick<TokenUsage, 'touch'>> {
  return fake<Pick<TokenUsage, 'touch'>>({ touch: () => undefined });
}
