import type { ControlConfig } from '../config/control-config';
import type { Principal } from '../common/principal';
import { ProblemException } from '../common/problem';
import type { PlacementHostRow } from '../hosts/hosts.repository';
import {
  asDependency,
  fakeAllocationsRepository,
  fakeAuditLog,
  fakeClock,
  fakeHostsRepository,
  fakeIdempotency,
  fakeMetricsRecorder,
  fakePlacementCatalog,
  fakeResourceClasses,
  fakeUnitOfWork,
} from '../testing/fakes';
import type { AdmissionTenant } from './allocations.repository';
import { AllocationsService } from './allocations.service';

const principal: Principal = { tokenId: 'token-1', kind: 'api', role: 'operator', tenantId: null };
const tenant: AdmissionTenant = { id: 'tenant-1', slug: 'torfaen', state: 'active', classification: 'OFFICIAL', isolation: 'shared' };

function host(id: string, vcpuAllocated: number): PlacementHostRow {
  return {
    id,
    name: `blv-${id}`,
    site: 'hall-a',
    status: 'up',
    accreditation: 'OFFICIAL',
    dedicatedTenant: null,
    accepted: true,
    inventories: { vcpu: { total: 16, reserved: 0, allocationRatio: 1, allocated: vcpuAllocated } },
  };
}

describe(AllocationsService.name, () => {
  let allocations: ReturnType<typeof fakeAllocationsRepository>;
  let idempotency: ReturnType<typeof fakeIdempotency>;
  let hosts: ReturnType<typeof fakeHostsRepository>;
  let catalog: ReturnType<typeof fakePlacementCatalog>;
  let metrics: ReturnType<typeof fakeMetricsRecorder>;
  let sut: AllocationsService;
  /** The hosts' rows as the admission transaction reads them under lock, by id. */
  let lockedRows: Map<string, PlacementHostRow>;

  beforeEach(() => {
    lockedRows = new Map([['a', host('a', 0)]]);
    allocations = fakeAllocationsRepository({});
    allocations.tenantWithLockedQuotas.mockResolvedValue({ tenant, quotas: { vcpu: { limit: 64, allocated: 0 } } });
    idempotency = fakeIdempotency();
    hosts = fakeHostsRepository();
    hosts.lockPlacementHost.mockImplementation(async (hostId) => ({ host: lockedRows.get(hostId) ?? null, busy: false }));
    catalog = fakePlacementCatalog();
    catalog.pick.mockReturnValue(host('a', 0));
    metrics = fakeMetricsRecorder();
    sut = new AllocationsService(
      asDependency(allocations),
      asDependency(idempotency),
      asDependency({}),
      asDependency(hosts),
      asDependency(catalog),
      asDependency(fakeResourceClasses()),
      asDependency(fakeUnitOfWork()),
      asDependency(fakeClock()),
      asDependency<ControlConfig>({ placementStrategy: 'spread' }),
      asDependency(metrics),
      asDependency(fakeAuditLog()),
    );
  });

  describe('with an Idempotency-Key', () => {
    it('answers a retry with the first outcome, admitting nothing more and counting it once', async () => {
      const first = await sut.create({ tenant: 'torfaen', resources: { vcpu: 4 } }, principal, 'key-1');
      const retry = await sut.create({ tenant: 'torfaen', resources: { vcpu: 4 } }, principal, 'key-1');

      expect(first).toMatchObject({ status: 201, replayed: false, body: { tenant: 'torfaen', host: 'blv-a', resources: { vcpu: 4 } } });
      expect(retry).toEqual({ status: 201, replayed: true, body: first.body });
      expect(allocations.recordAdmission).toHaveBeenCalledTimes(1);
      expect(metrics.countAllocationRequest.mock.calls).toEqual([['admitted']]);
    });

    it('replays a refusal too, and refuses the key with a different request', async () => {
      allocations.tenantWithLockedQuotas.mockResolvedValue({ tenant, quotas: { vcpu: { limit: 2, allocated: 0 } } });
      const refused = sut.create({ tenant: 'torfaen', resources: { vcpu: 4 } }, principal, 'key-2');
      await expect(refused).rejects.toMatchObject({ code: 'QuotaExceeded' });
      allocations.tenantWithLockedQuotas.mockResolvedValue({ tenant, quotas: { vcpu: { limit: 64, allocated: 0 } } });

      const replayed = await sut.create({ tenant: 'torfaen', resources: { vcpu: 4 } }, principal, 'key-2');
      expect(replayed).toMatchObject({ status: 409, replayed: true, body: { code: 'QuotaExceeded' } });
      expect(allocations.recordAdmission).not.toHaveBeenCalled();
      await expect(sut.create({ tenant: 'torfaen', resources: { vcpu: 8 } }, principal, 'key-2')).rejects.toMatchObject({ code: 'Conflict' });
    });

    it('keeps keys apart per token', async () => {
      await sut.create({ tenant: 'torfaen', resources: { vcpu: 4 } }, principal, 'key-3');
      const other = await sut.create({ tenant: 'torfaen', resources: { vcpu: 4 } }, { ...principal, tokenId: 'token-2' }, 'key-3');
      expect(other.replayed).toBe(false);
      expect(allocations.recordAdmission).toHaveBeenCalledTimes(2);
    });
  });

  describe('when the placement catalog is stale', () => {
    it('refreshes the host it picked and places on the next candidate, once the locked rows say the first no longer fits', async () => {
      lockedRows.set('a', host('a', 16)); // full under lock, though the catalog still saw it empty
      lockedRows.set('b', host('b', 0));
      catalog.pick.mockReturnValueOnce(host('a', 0)).mockReturnValueOnce(host('b', 0));

      const outcome = await sut.create({ tenant: 'torfaen', resources: { vcpu: 4 } }, principal);

      expect(outcome).toMatchObject({ status: 201, body: { host: 'blv-b' } });
      expect(catalog.refreshHost.mock.calls).toEqual([['a']]);
      expect(allocations.recordAdmission).toHaveBeenCalledTimes(1);
      // The catalog counted each pick at once, took back the one whose transaction failed, and kept the one that committed.
      expect(catalog.applyAllocation.mock.calls).toEqual([
        ['a', { vcpu: 4 }, 1],
        ['a', { vcpu: 4 }, -1],
        ['b', { vcpu: 4 }, 1],
      ]);
    });

    it('gives up with a Conflict after five stale picks, allocating nothing', async () => {
      lockedRows.set('a', host('a', 16));
      const attempt = sut.create({ tenant: 'torfaen', resources: { vcpu: 4 } }, principal);

      await expect(attempt).rejects.toBeInstanceOf(ProblemException);
      await expect(attempt).rejects.toMatchObject({ code: 'Conflict' });
      expect(catalog.refreshHost).toHaveBeenCalledTimes(4);
      expect(allocations.recordAdmission).not.toHaveBeenCalled();
      expect(metrics.countAllocationRequest.mock.calls).toEqual([['Conflict']]);
    });
  });

  describe('when another transaction holds the rows of the host it picked (PostgreSQL: another replica)', () => {
    it('passes over that host to the next candidate, without waiting for it', async () => {
      const a = host('a', 0);
      const b = host('b', 0);
      lockedRows.set('b', b);
      hosts.lockPlacementHost.mockImplementation(async (hostId, _tx, options) => {
        if (hostId === 'a' && options?.skipLocked) return { host: null, busy: true };
        return { host: lockedRows.get(hostId) ?? null, busy: false };
      });
      catalog.pick.mockImplementation((_tenant, _request, _strategy, exclude) => (exclude?.has(a) ? b : a));

      const outcome = await sut.create({ tenant: 'torfaen', resources: { vcpu: 4 } }, principal);

      expect(outcome).toMatchObject({ status: 201, body: { host: 'blv-b' } });
      expect(hosts.lockPlacementHost.mock.calls.map(([hostId, , options]) => [hostId, options])).toEqual([
        ['a', { skipLocked: true }],
        ['b', { skipLocked: true }],
      ]);
      // The busy host's pick was counted and taken back at once; the other's kept.
      expect(catalog.applyAllocation.mock.calls).toEqual([
        ['a', { vcpu: 4 }, 1],
        ['a', { vcpu: 4 }, -1],
        ['b', { vcpu: 4 }, 1],
      ]);
    });

    it('waits for the first busy host when every candidate is busy, rather than refusing for want of capacity', async () => {
      const a = host('a', 0);
      hosts.lockPlacementHost.mockImplementation(async (hostId, _tx, options) =>
        options?.skipLocked ? { host: null, busy: true } : { host: lockedRows.get(hostId) ?? null, busy: false },
      );
      catalog.pick.mockImplementation((_tenant, _request, _strategy, exclude) => (exclude?.has(a) ? null : a));

      const outcome = await sut.create({ tenant: 'torfaen', resources: { vcpu: 4 } }, principal);

      expect(outcome).toMatchObject({ status: 201, body: { host: 'blv-a' } });
      expect(hosts.lockPlacementHost.mock.calls.map(([hostId, , options]) => [hostId, options])).toEqual([
        ['a', { skipLocked: true }],
        ['a', { skipLocked: false }],
      ]);
    });

    it('waits for the host it picks after passing over three busy ones', async () => {
      const candidates = ['a', 'b', 'c', 'd', 'e'].map((id) => host(id, 0));
      for (const candidate of candidates) lockedRows.set(candidate.id, candidate);
      hosts.lockPlacementHost.mockImplementation(async (hostId, _tx, options) =>
        options?.skipLocked ? { host: null, busy: true } : { host: lockedRows.get(hostId) ?? null, busy: false },
      );
      catalog.pick.mockImplementation((_tenant, _request, _strategy, exclude) => candidates.find((candidate) => !exclude?.has(candidate)) ?? null);

      const outcome = await sut.create({ tenant: 'torfaen', resources: { vcpu: 4 } }, principal);

      expect(outcome).toMatchObject({ status: 201, body: { host: 'blv-d' } });
      expect(hosts.lockPlacementHost.mock.calls.map(([hostId, , options]) => [hostId, options?.skipLocked])).toEqual([
        ['a', true],
        ['b', true],
        ['c', true],
        ['d', false],
      ]);
    });
  });

  it('refuses a frozen tenant before looking for a host', async () => {
    allocations.tenantWithLockedQuotas.mockResolvedValue({ tenant: { ...tenant, state: 'frozen' }, quotas: {} });
    await expect(sut.create({ tenant: 'torfaen', resources: { vcpu: 4 } }, principal)).rejects.toMatchObject({ code: 'TenantFrozen' });
    expect(catalog.pick).not.toHaveBeenCalled();
  });
});
