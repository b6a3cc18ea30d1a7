import { HOST_NAME_PATTERN, HOST_STATUSES, OPERATOR_HOST_STATUSES, OPERATOR_TENANT_STATES, SLUG_PATTERN, TENANT_STATES } from './vocabulary';

describe('vocabulary', () => {
  it.each(['torfaen', 'gwent-police', '0a', 'a'.repeat(63)])('takes %s as a slug', (slug) => {
    expect(SLUG_PATTERN.test(slug)).toBe(true);
  });

  it.each(['t', '-torfaen', 'Torfaen', 'tor_faen', 'a'.repeat(64), 'blv.c01'])('refuses %s as a slug', (slug) => {
    expect(SLUG_PATTERN.test(slug)).toBe(false);
  });

  it.each(['blv-c01', 'b', 'node_7.hall-a', 'a'.repeat(63)])('takes %s as a host name', (name) => {
    expect(HOST_NAME_PATTERN.test(name)).toBe(true);
  });

  it.each(['', '.blv', 'BLV-C01', 'a'.repeat(64), 'blv c01'])('refuses %j as a host name', (name) => {
    expect(HOST_NAME_PATTERN.test(name)).toBe(false);
  });

  it('lets operators set only statuses and states that exist', () => {
    expect(HOST_STATUSES).toEqual(expect.arrayContaining([...OPERATOR_HOST_STATUSES]));
    expect(TENANT_STATES).toEqual(expect.arrayContaining([...OPERATOR_TENANT_STATES]));
  });
});
