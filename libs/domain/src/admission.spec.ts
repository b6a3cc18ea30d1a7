import { checkQuota } from './admission';

const GiB = 2 ** 30;

describe(checkQuota.name, () => {
  const quotas = {
    vcpu: { limit: 64, allocated: 60 },
    memory: { limit: 256 * GiB, allocated: 200 * GiB },
  };

  it('admits a request within every quota', () => {
    expect(checkQuota({ vcpu: 4, memory: 56 * GiB }, quotas)).toBeNull();
  });

  it('admits an empty request', () => {
    expect(checkQuota({}, quotas)).toBeNull();
  });

  it('refuses a class with no quota, by default', () => {
    expect(checkQuota({ vcpu: 1, storage: 1 }, quotas)).toEqual({
      resource: 'storage',
      requested: 1,
      limit: 0,
      allocated: 0,
      reason: 'tenant has no quota for storage',
    });
  });

  it('refuses even a zero amount of a class with no quota', () => {
    expect(checkQuota({ custom_gpu: 0 }, quotas)?.reason).toBe('tenant has no quota for custom_gpu');
  });

  it('admits a zero amount of a class with a quota', () => {
    expect(checkQuota({ vcpu: 0 }, { vcpu: { limit: 0, allocated: 0 } })).toBeNull();
  });

  it('refuses a request that would take the tenant over its quota', () => {
    expect(checkQuota({ vcpu: 5 }, quotas)).toEqual({
      resource: 'vcpu',
      requested: 5,
      limit: 64,
      allocated: 60,
      reason: "vcpu: 5 requested, but only 4 of the tenant's 64 quota is left",
    });
  });

  it('admits a request that fills the quota exactly', () => {
    expect(checkQuota({ vcpu: 4 }, quotas)).toBeNull();
  });

  it('shows bytes in the reason in binary units', () => {
    expect(checkQuota({ memory: 64 * GiB }, quotas)?.reason).toBe("memory: 64 GiB requested, but only 56 GiB of the tenant's 256 GiB quota is left");
  });

  it('says nothing is left when the tenant is already over its quota', () => {
    expect(checkQuota({ vcpu: 1 }, { vcpu: { limit: 8, allocated: 10 } })?.reason).toBe("vcpu: 1 requested, but only 0 of the tenant's 8 quota is left");
  });

  it('reports the first failing class in name order', () => {
    const refusal = checkQuota({ vcpu: 100, memory: 1024 * GiB, custom_gpu: 1 }, quotas);

    expect(refusal?.resource).toBe('custom_gpu');
    expect(checkQuota({ vcpu: 100, memory: 1024 * GiB }, quotas)?.resource).toBe('memory');
  });

  it('treats a quota entry set to undefined as no quota', () => {
    expect(checkQuota({ vcpu: 1 }, { vcpu: undefined })?.limit).toBe(0);
  });

  it.each(['constructor', '__proto__', 'toString'])('never finds a quota for %s on the prototype', (resource) => {
    const request = JSON.parse(`{"${resource}": 1}`) as Record<string, number>;

    expect(checkQuota(request, quotas)?.reason).toBe(`tenant has no quota for ${resource}`);
  });

  it('reports only the quota figures, whatever else the position carries', () => {
    const position = { limit: 1, allocated: 1, used: 5 };

    expect(checkQuota({ vcpu: 1 }, { vcpu: position })).not.toHaveProperty('used');
  });
});
