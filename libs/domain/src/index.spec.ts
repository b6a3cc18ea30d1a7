import * as domain from '@dcm/domain';

describe('@dcm/domain', () => {
  it('exports the rules the control service calls', () => {
    const functions = [
      'isBuiltinResourceClass',
      'isValidResourceClassName',
      'defaultAllocationRatio',
      'parseAmount',
      'formatAmount',
      'classificationRank',
      'mayHold',
      'capacityOf',
      'validateInventory',
      'checkUnitBounds',
      'checkQuota',
      'evaluateHost',
      'freeShareAfter',
      'rankHosts',
      'quotaState',
      'measuredUse',
      'filesystemsUsed',
      'freeOf',
      'isOvercommitted',
      'inventoryFree',
      'inventoryOvercommitted',
      'usageOf',
      'sumUsage',
    ];

    for (const name of functions) expect(typeof (domain as Record<string, unknown>)[name]).toBe('function');
    expect(domain.CLASSIFICATIONS).toEqual(['OFFICIAL', 'OFFICIAL-SENSITIVE', 'SECRET']);
    expect(domain.DEFAULT_WARNING_RATIO).toBe(0.9);
    expect(domain.BUILTIN_RESOURCE_CLASSES.memory).toBe('bytes');
  });

  it('keeps its internal helpers to itself', () => {
    expect(domain).not.toHaveProperty('ownProperty');
  });
});
