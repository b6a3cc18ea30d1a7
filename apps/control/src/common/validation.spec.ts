import { bodyShapeProblem } from './validation';
import { isSafeText } from './validators';

describe(bodyShapeProblem.name, () => {
  it('passes ordinary bodies', () => {
    expect(bodyShapeProblem({ tenant: 'torfaen', resources: { vcpu: 8, memory: '32GiB' }, labels: [{ a: 1 }] })).toBeNull();
  });

  it.each([
    ['__proto__ at the top', JSON.parse('{"__proto__": {"polluted": true}}'), '__proto__'],
    ['constructor nested', { resources: { constructor: 1 } }, 'resources.constructor'],
    ['prototype inside an array', { items: [{ ok: 1 }, { prototype: {} }] }, 'items[1].prototype'],
  ])('names a prototype key: %s', (_case, body, path) => {
    expect(bodyShapeProblem(body)).toBe(`${path}: __proto__, constructor and prototype are not allowed as property names`);
  });

  it('refuses nesting deeper than 16 levels without recursing further', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];

    expect(bodyShapeProblem({ deep })).toMatch(/^deep(\[0\])+: nested more than 16 levels deep$/);
  });
});

describe(isSafeText.name, () => {
  it.each(['Torfaen County Borough Council', 'Cyngor Bwrdeistref Sirol Torfaen — ŵ ŷ', 'ict@torfaen.gov.uk', '', 'שלום', '漢字'])('accepts %j', (text) => {
    expect(isSafeText(text)).toBe(true);
  });

  it.each([
    ['NUL', 'a\u0000b'],
    ['newline', 'a\nb'],
    ['tab', 'a\tb'],
    ['terminal escape', '\u001b[2J'],
    ['DEL', 'a\u007fb'],
    ['C1 control', 'a\u0085b'],
    ['line separator', 'a\u2028b'],
    ['right-to-left override', 'evil\u202Egnp.exe'],
    ['isolate', 'a\u2066b'],
    ['lone surrogate', 'a\ud800b'],
    ['not a string', 42],
  ])('refuses %s', (_case, text) => {
    expect(isSafeText(text)).toBe(false);
  });
});
