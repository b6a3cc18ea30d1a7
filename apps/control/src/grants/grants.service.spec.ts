import { TenantEntity } from '@dcm/persistence';
import {
  asDependency,
  fakeAuditLog,
  fakeClock,
  fakeGrantsRepository,
  fakeQuotasForGrants,
  fakeResourceClasses,
  fakeTenantsRepository,
  fakeUnitOfWork,
} from '../testing/fakes';
import { GrantsService } from './grants.service';

const NOW = new Date('2026-12-01T12:00:00Z');
const DAY = 86_400_000;

describe(GrantsService.name, () => {
  let grants: ReturnType<typeof fakeGrantsRepository>;
  let quotas: ReturnType<typeof fakeQuotasForGrants>;
  let tenants: ReturnType<typeof fakeTenantsRepository>;
  let clock: ReturnType<typeof fakeClock>;
  let sut: GrantsService;

  beforeEach(() => {
    grants = fakeGrantsRepository();
    quotas = fakeQuotasForGrants('vcpu');
    tenants = fakeTenantsRepository(Object.assign(new TenantEntity(), { id: 'tenant-1', slug: 'torfaen', state: 'active' }));
    clock = fakeClock(NOW);
    sut = new GrantsService(
      asDependency(grants),
      asDependency(quotas),
      asDependency({}),
      asDependency(tenants),
      asDependency(fakeResourceClasses()),
      asDependency(fakeUnitOfWork()),
      asDependency(clock),
      asDependency(fakeAuditLog()),
    );
  });

  const create = (resources: Record<string, unknown>, expiresAt = new Date(NOW.getTime() + DAY)) =>
    sut.create('torfaen', { resources, expiresAt, reason: 'major incident' }, 'token:t1');

  it('raises the quota of a class the tenant has one for, until it expires', async () => {
    await expect(create({ vcpu: 32 })).resolves.toMatchObject({ tenant: 'torfaen', resources: { vcpu: 32 } });
    expect(quotas.recomputeGranted).toHaveBeenCalledWith('tenant-1', expect.anything());
  });

  it('refuses a class without a quota, an expiry in the past or more than a year ahead, and a zero amount', async () => {
    await expect(create({ memory: 1024 })).rejects.toMatchObject({ code: 'Conflict', extensions: { resources: ['memory'] } });
    await expect(create({ vcpu: 32 }, new Date(NOW.getTime() - 1))).rejects.toMatchObject({ code: 'ValidationFailed' });
    await expect(create({ vcpu: 32 }, new Date(NOW.getTime() + 367 * DAY))).rejects.toMatchObject({ code: 'ValidationFailed' });
    await expect(create({ vcpu: 0 })).rejects.toMatchObject({ code: 'ValidationFailed' });
    expect(grants.insert).not.toHaveBeenCalled();
  });

  it('ends grants at their expiry, even when the job sees them later, and the tenant limits follow', async () => {
    await create({ vcpu: 32 }, new Date(NOW.getTime() + DAY));
    clock.now.mockReturnValue(new Date(NOW.getTime() + DAY + 5_000));
    await expect(sut.expire()).resolves.toBe(1);
    const [{ grant }] = grants.stored.values();
    expect(grant).toMatchObject({ endedAt: new Date(NOW.getTime() + DAY), endReason: 'expired' });
    expect(quotas.recomputeGranted).toHaveBeenCalledTimes(2);
    await expect(sut.expire()).resolves.toBe(0);
  });

  it('revokes a running grant once; revoking it again changes nothing', async () => {
    const { id } = await create({ vcpu: 32 });
    await expect(sut.revoke('torfaen', id, 'token:t1')).resolves.toMatchObject({ id });
    await sut.revoke('torfaen', id, 'token:t1');
    expect(grants.end).toHaveBeenCalledTimes(1);
    await expect(sut.revoke('torfaen', 'no-such-grant', 'token:t1')).rejects.toMatchObject({ code: 'NotFound' });
  });
});
