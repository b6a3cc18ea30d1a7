import { ownProperty } from './own-property';

describe(ownProperty.name, () => {
  it('returns the value stored under the key', () => {
    expect(ownProperty({ vcpu: 4 }, 'vcpu')).toBe(4);
  });

  it('returns undefined for a missing key', () => {
    expect(ownProperty<number>({ vcpu: 4 }, 'memory')).toBeUndefined();
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('does not reach the prototype for %s', (key) => {
    expect(ownProperty<number>({}, key)).toBeUndefined();
  });

  it('reads an own "__proto__" key parsed from JSON', () => {
    const record = JSON.parse('{"__proto__": 7}') as Record<string, number>;

    expect(ownProperty(record, '__proto__')).toBe(7);
  });
});
