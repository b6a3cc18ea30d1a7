import fc from 'fast-check';
import { decideEnforcement, EnforcedQuota, EnforcementPolicy, enforcementMayUnfreeze, quotaState, QuotaState } from './enforcement';
import { TENANT_STATES } from './vocabulary';

const NOW = new Date('2026-12-01T12:00:00Z');
const QUOTA_STATES: QuotaState[] = ['ok', 'warning', 'over'];

const policy: fc.Arbitrary<EnforcementPolicy> = fc.record({
  freezeGraceSeconds: fc.integer({ min: 0, max: 3600 }),
  quotaWarningRatio: fc.constantFrom(0.8, 0.9, 0.95),
});

/** Tenants t0…t3, each in one state and frozen by one author, with quotas of up to three classes. */
const quotas: fc.Arbitrary<EnforcedQuota[]> = fc
  .array(
    fc.record({
      tenantState: fc.constantFrom(...TENANT_STATES),
      frozenBy: fc.constantFrom('enforcement' as const, 'operator' as const, null),
      classes: fc.uniqueArray(
        fc.record({
          resourceClass: fc.constantFrom('vcpu', 'memory', 'storage'),
          limit: fc.integer({ min: 0, max: 100 }),
          allocated: fc.integer({ min: 0, max: 150 }),
          used: fc.option(fc.integer({ min: 0, max: 150 }), { nil: null }),
          state: fc.constantFrom(...QUOTA_STATES),
          secondsInState: fc.option(fc.integer({ min: 0, max: 7200 }), { nil: null }),
        }),
        { selector: (quota) => quota.resourceClass, minLength: 1, maxLength: 3 },
      ),
    }),
    { maxLength: 4 },
  )
  .map((tenants) =>
    tenants.flatMap((tenant, index) =>
      tenant.classes.map(({ secondsInState, ...quota }) => ({
        ...quota,
        tenantId: `t${index}`,
        tenantState: tenant.tenantState,
        frozenBy: tenant.tenantState === 'frozen' ? tenant.frozenBy : null,
        stateSince: secondsInState === null ? null : new Date(NOW.getTime() - secondsInState * 1000),
      })),
    ),
  );

describe('the enforcement decision', () => {
  it('freezes only active tenants, and only for a class over quota for at least the grace period', () => {
    fc.assert(
      fc.property(quotas, policy, (positions, rules) => {
        for (const verdict of decideEnforcement(positions, NOW, rules).freeze) {
          const own = positions.filter((quota) => quota.tenantId === verdict.tenantId);
          expect(own.every((quota) => quota.tenantState === 'active')).toBe(true);
          expect(verdict.overPastGrace.length).toBeGreaterThan(0);
          for (const resourceClass of verdict.overPastGrace) {
            const quota = own.find((candidate) => candidate.resourceClass === resourceClass)!;
            expect(quotaState(quota, rules.quotaWarningRatio)).toBe('over');
            // Over since the recorded instant if it was over before, or since now (which only a grace of 0 lets through).
            const overSince = quota.state === 'over' && quota.stateSince ? quota.stateSince : NOW;
            expect(overSince.getTime()).toBeLessThanOrEqual(NOW.getTime() - rules.freezeGraceSeconds * 1000);
          }
        }
      }),
    );
  });

  it("unfreezes only what enforcement froze, and only a tenant under every quota; never an operator's freeze", () => {
    fc.assert(
      fc.property(quotas, policy, (positions, rules) => {
        for (const verdict of decideEnforcement(positions, NOW, rules).unfreeze) {
          const own = positions.filter((quota) => quota.tenantId === verdict.tenantId);
          expect(own.every((quota) => enforcementMayUnfreeze(quota.tenantState, quota.frozenBy))).toBe(true);
          expect(own.every((quota) => quotaState(quota, rules.quotaWarningRatio) !== 'over')).toBe(true);
        }
      }),
    );
  });

  it('records each quota whose state changed once, as an event, and nothing for a quota that stays', () => {
    fc.assert(
      fc.property(quotas, policy, (positions, rules) => {
        const { changes, transitions } = decideEnforcement(positions, NOW, rules);
        for (const quota of positions) {
          const now = quotaState(quota, rules.quotaWarningRatio);
          const change = changes.filter((candidate) => candidate.tenantId === quota.tenantId && candidate.resourceClass === quota.resourceClass);
          expect(change).toHaveLength(now !== quota.state || quota.stateSince === null ? 1 : 0);
          expect(transitions.filter((transition) => transition.quota === quota)).toEqual(now === quota.state ? [] : [{ quota, to: now }]);
          if (change[0] && now !== quota.state) expect(change[0]).toMatchObject({ from: quota.state, to: now, since: NOW });
        }
      }),
    );
  });

  it('is settled after its own changes: a second pass at the same instant changes nothing', () => {
    fc.assert(
      fc.property(quotas, policy, (positions, rules) => {
        const first = decideEnforcement(positions, NOW, rules);
        const frozen = new Set(first.freeze.map((verdict) => verdict.tenantId));
        const unfrozen = new Set(first.unfreeze.map((verdict) => verdict.tenantId));
        const after = positions.map((quota) => {
          const change = first.changes.find((candidate) => candidate.tenantId === quota.tenantId && candidate.resourceClass === quota.resourceClass);
          const tenant = frozen.has(quota.tenantId)
            ? { tenantState: 'frozen' as const, frozenBy: 'enforcement' as const }
            : unfrozen.has(quota.tenantId)
              ? { tenantState: 'active' as const, frozenBy: null }
              : {};
          return { ...quota, ...tenant, ...(change ? { state: change.to, stateSince: change.since } : {}) };
        });
        const second = decideEnforcement(after, NOW, rules);
        expect(second.changes).toEqual([]);
        expect(second.transitions).toEqual([]);
        expect(second.unfreeze).toEqual([]);
        expect(second.freeze).toEqual([]);
      }),
    );
  });
});
