import type { ControlConfig } from '../config/control-config';
import type { QuotaPositionRow } from '../quotas/quotas.repository';
import { asDependency, fakeClock, fakeEnforcementRepository, fakeEnforcementSink, fakeQuotasRepository, fakeUnitOfWork } from '../testing/fakes';
import { EnforcementService } from './enforcement.service';

const NOW = new Date('2026-12-01T12:00:00Z');
const config = { reportIntervalSeconds: 15, freezeGraceSeconds: 900, quotaWarningRatio: 0.9 } as const;

function position(overrides: Partial<QuotaPositionRow> = {}): QuotaPositionRow {
  return {
    tenantId: 'tenant-1',
    slug: 'torfaen',
    tenantState: 'active',
    frozenBy: null,
    resourceClass: 'vcpu',
    quota: 10,
    granted: 0,
    limit: 10,
    allocated: 4,
    used: null,
    state: 'ok',
    stateSince: new Date(NOW.getTime() - 3_600_000),
    ...overrides,
  };
}

describe(EnforcementService.name, () => {
  function serviceOver(positions: QuotaPositionRow[]) {
    const repository = fakeEnforcementRepository();
    const sink = fakeEnforcementSink();
    const unitOfWork = fakeUnitOfWork();
    const sut = new EnforcementService(
      asDependency(fakeQuotasRepository(positions)),
      asDependency(repository),
      asDependency(unitOfWork),
      asDependency(fakeClock(NOW)),
      asDependency<ControlConfig>(config),
      [sink],
    );
    return { sut, repository, sink, unitOfWork };
  }

  it('writes nothing, in no transaction, when no state changes', async () => {
    const { sut, unitOfWork } = serviceOver([position()]);
    await expect(sut.evaluate()).resolves.toMatchObject({ quotas: 1, changed: 0, frozen: [], unfrozen: [], events: [] });
    expect(unitOfWork.run).not.toHaveBeenCalled();
  });

  it('records a quota going over as an event, and freezes its tenant only once the grace period has passed', async () => {
    const newlyOver = serviceOver([position({ allocated: 12 })]);
    await expect(newlyOver.sut.evaluate()).resolves.toMatchObject({ changed: 1, frozen: [] });
    expect(newlyOver.sink.events).toEqual([expect.objectContaining({ event: 'quota.state_changed', tenant: 'torfaen', from: 'ok', to: 'over' })]);
    expect(newlyOver.repository.freeze).not.toHaveBeenCalled();

    const pastGrace = serviceOver([position({ allocated: 12, state: 'over', stateSince: new Date(NOW.getTime() - 901_000) })]);
    await expect(pastGrace.sut.evaluate()).resolves.toMatchObject({ frozen: ['torfaen'] });
    expect(pastGrace.repository.freeze).toHaveBeenCalledWith('tenant-1', NOW, expect.anything());
    expect(pastGrace.sink.events).toEqual([
      expect.objectContaining({ event: 'tenant.frozen', tenant: 'torfaen', resources: ['vcpu'], reason: expect.stringContaining('900 s') }),
    ]);
  });

  it("lifts its own freeze once the tenant is back under, and never an operator's", async () => {
    const own = serviceOver([position({ tenantState: 'frozen', frozenBy: 'enforcement' })]);
    await expect(own.sut.evaluate()).resolves.toMatchObject({ unfrozen: ['torfaen'] });
    expect(own.sink.events).toEqual([expect.objectContaining({ event: 'tenant.unfrozen', from: 'frozen', to: 'active' })]);

    const operators = serviceOver([position({ tenantState: 'frozen', frozenBy: 'operator' })]);
    await expect(operators.sut.evaluate()).resolves.toMatchObject({ unfrozen: [] });
    expect(operators.repository.unfreeze).not.toHaveBeenCalled();
  });

  it('reports no freeze that the guarded write found already made', async () => {
    const { sut, repository, sink } = serviceOver([position({ allocated: 12, state: 'over', stateSince: new Date(NOW.getTime() - 901_000) })]);
    repository.freeze.mockResolvedValue(false);
    await expect(sut.evaluate()).resolves.toMatchObject({ frozen: [], changed: 0 });
    expect(sink.events).toEqual([]);
  });
});
