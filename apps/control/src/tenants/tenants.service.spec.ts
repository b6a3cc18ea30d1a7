import { TenantEntity } from '@dcm/persistence';
import { asDependency, fakeAuditLog, fakeClock, fakeTenantsRepository, fakeUnitOfWork } from '../testing/fakes';
import { OffboardingStep, TenantsService } from './tenants.service';

const NOW = new Date('2026-12-01T12:00:00Z');

function aTenant(overrides: Partial<TenantEntity> = {}): TenantEntity {
  return Object.assign(new TenantEntity(), {
    id: 'tenant-1',
    slug: 'torfaen',
    name: 'Torfaen',
    contact: '',
    isolation: 'shared',
    classification: 'OFFICIAL',
    state: 'active',
    frozenBy: null,
    createdAt: NOW,
    updatedAt: NOW,
    offboardedAt: null,
    ...overrides,
  } satisfies TenantEntity);
}

describe(TenantsService.name, () => {
  let tenants: ReturnType<typeof fakeTenantsRepository>;
  let auditLog: ReturnType<typeof fakeAuditLog>;
  let sut: TenantsService;

  beforeEach(() => {
    tenants = fakeTenantsRepository(aTenant());
    auditLog = fakeAuditLog();
    sut = new TenantsService(asDependency(tenants), asDependency(fakeUnitOfWork()), asDependency(fakeClock(NOW)), asDependency(auditLog));
  });

  it('never reuses a slug, even one offboarded', async () => {
    tenants.stored.set('torfaen', aTenant({ state: 'offboarded' }));
    await expect(sut.create({ slug: 'torfaen', name: 'Torfaen again' }, 'token:t1')).rejects.toMatchObject({ code: 'Conflict' });
    expect(tenants.save).not.toHaveBeenCalled();
  });

  it('creates an active, shared, OFFICIAL tenant by default, and audits it', async () => {
    const created = await sut.create({ slug: 'newport', name: 'Newport' }, 'token:t1');
    expect(created).toMatchObject({ slug: 'newport', state: 'active', isolation: 'shared', classification: 'OFFICIAL', frozenBy: null });
    expect(auditLog.record).toHaveBeenCalledWith(expect.anything(), expect.objectContaining({ action: 'tenant.create', subject: 'newport' }));
  });

  it("records a freeze by hand as the operator's, so that enforcement never lifts it", async () => {
    await expect(sut.update('torfaen', { state: 'frozen' }, 'token:t1')).resolves.toMatchObject({ state: 'frozen', frozenBy: 'operator' });
    await expect(sut.update('torfaen', { state: 'active' }, 'token:t1')).resolves.toMatchObject({ state: 'active', frozenBy: null });
  });

  it('refuses to change isolation or classification while allocations are active', async () => {
    tenants.activeAllocations.set('tenant-1', 2);
    await expect(sut.update('torfaen', { isolation: 'dedicated' }, 'token:t1')).rejects.toMatchObject({ code: 'Conflict' });
    await expect(sut.update('torfaen', { name: 'Torfaen CBC' }, 'token:t1')).resolves.toMatchObject({ name: 'Torfaen CBC' });
  });

  it('refuses to offboard while allocations are active; offboards otherwise, unbinding hosts and running every step', async () => {
    const step: OffboardingStep = { within: jest.fn(async () => undefined), afterCommit: jest.fn() };
    sut.onOffboarding(step);
    tenants.activeAllocations.set('tenant-1', 1);
    await expect(sut.offboard('torfaen', 'token:t1')).rejects.toMatchObject({ code: 'Conflict', extensions: { activeAllocations: 1 } });
    expect(step.afterCommit).not.toHaveBeenCalled();

    tenants.activeAllocations.set('tenant-1', 0);
    await expect(sut.offboard('torfaen', 'token:t1')).resolves.toMatchObject({ state: 'offboarded', offboardedAt: NOW });
    expect(tenants.unbindHosts).toHaveBeenCalledWith('tenant-1', expect.anything());
    expect(step.within).toHaveBeenCalledTimes(1);
    expect(step.afterCommit).toHaveBeenCalledTimes(1);
  });

  it("hides a tenant outside the caller's scope exactly like one that does not exist", async () => {
    await expect(sut.get('torfaen', 'another-tenant')).rejects.toMatchObject({ code: 'NotFound' });
    await expect(sut.get('torfaen', 'tenant-1')).resolves.toMatchObject({ slug: 'torfaen' });
  });
});
