import { changes } from './audit.command';

describe(changes.name, () => {
  it('says what changed in one line, amounts of byte classes in IEC units', () => {
    expect(changes({ before: { vcpu: 64, memory: 256 * 2 ** 30, name: 'Torfaen' }, after: { vcpu: 64, memory: 512 * 2 ** 30, name: 'Torfaen' } })).toBe(
      'memory: 256 GiB → 512 GiB',
    );
    expect(changes({ before: { state: 'active' }, after: { state: 'frozen', reason: 'over' } })).toBe('state: active → frozen; reason: (none) → over');
  });

  it('says created and deleted rather than listing every field', () => {
    expect(changes({ before: null, after: { slug: 'torfaen' } })).toBe('created');
    expect(changes({ before: { slug: 'torfaen' }, after: null })).toBe('deleted');
  });

  it('shortens long values', () => {
    expect(changes({ before: { description: 'a'.repeat(100) }, after: { description: 'b' } })).toBe(`description: ${'a'.repeat(39)}… → b`);
  });
});
