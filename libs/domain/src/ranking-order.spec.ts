import fc from 'fast-check';
import { orderByKeyThenName } from './ranking-order';

const byKeyThenName = (keys: number[], names: string[]) => (a: number, b: number) =>
  keys[a] - keys[b] || (names[a] < names[b] ? -1 : names[a] > names[b] ? 1 : 0) || a - b;

describe(orderByKeyThenName.name, () => {
  it('orders by key, then by name', () => {
    const keys = Float64Array.of(0.5, -1, 0.5, 0.25, 0.5);
    const names = ['c', 'z', 'a', 'q', 'b'];

    expect([...orderByKeyThenName(keys, names)]).toEqual([1, 3, 2, 4, 0]);
  });

  it('compares names by code unit, as host names are ASCII', () => {
    expect([...orderByKeyThenName(Float64Array.of(0, 0, 0), ['b', 'B', 'a'])]).toEqual([1, 2, 0]);
  });

  it('keeps the input order of equal pairs', () => {
    expect([...orderByKeyThenName(Float64Array.of(1, 1, 1), ['x', 'x', 'x'])]).toEqual([0, 1, 2]);
  });

  it('handles no and one position', () => {
    expect([...orderByKeyThenName(new Float64Array(0), [])]).toEqual([]);
    expect([...orderByKeyThenName(Float64Array.of(3), ['a'])]).toEqual([0]);
  });

  it('agrees with a comparator sort, ties included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -5, max: 5 }), fc.constantFrom('a', 'b', 'c', 'blv-c01', 'blv-c02')), {
          maxLength: 300,
        }),
        (entries) => {
          const keys = entries.map(([key]) => key / 4);
          const names = entries.map(([, name]) => name);
          const expected = keys.map((_, position) => position).sort(byKeyThenName(keys, names));

          expect([...orderByKeyThenName(Float64Array.from(keys), names)]).toEqual(expected);
        },
      ),
    );
  });
});
