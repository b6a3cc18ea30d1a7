import { storageMountsOf } from './agent-facts';

describe(storageMountsOf.name, () => {
  it('gives the mountpoints the agent declared as storage', () => {
    const facts = {
      hostname: 'blv-c01',
      storage: [
        { mountpoint: '/srv', sizeBytes: 1 },
        { mountpoint: '/data', sizeBytes: 2 },
      ],
    };
    expect([...storageMountsOf(facts)]).toEqual(['/srv', '/data']);
  });

  it.each([null, 'text', [], {}, { storage: 'all' }, { storage: [null, 7, { mountpoint: 3 }] }])('declares none from unreadable facts (%p)', (facts) => {
    expect(storageMountsOf(facts).size).toBe(0);
  });
});
