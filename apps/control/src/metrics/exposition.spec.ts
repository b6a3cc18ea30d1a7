import { encodeSections, familyHeader, FamilyRuns, labelValue, sample, sampleValue, sectionText } from './exposition';

describe(labelValue.name, () => {
  it('escapes backslash, double quote and line feed, and nothing else', () => {
    expect(labelValue('/srv/odd "quoted" \\ back\nslash')).toBe('/srv/odd \\"quoted\\" \\\\ back\\nslash');
    expect(labelValue('blv-c01')).toBe('blv-c01');
    expect(labelValue('tab\there, ünïcode')).toBe('tab\there, ünïcode');
  });
});

describe(sampleValue.name, () => {
  it.each([
    [0, '0'],
    [-0, '0'],
    [42, '42'],
    [2 ** 53 - 1, '9007199254740991'],
    [21_990_232_555_520, '21990232555520'],
    [0.31, '0.31'],
    [1763805600.123, '1763805600.123'],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
  ])('writes %p as %s', (value, text) => {
    expect(sampleValue(value)).toBe(text);
  });
});

describe(familyHeader.name, () => {
  it('writes HELP and TYPE, escaping backslash and line feed in the help text', () => {
    expect(familyHeader({ name: 'dcm_x', type: 'gauge', help: 'a \\ b\nc "d"' })).toBe('# HELP dcm_x a \\\\ b\\nc "d"\n# TYPE dcm_x gauge\n');
  });
});

describe(FamilyRuns.name, () => {
  const blocks = (count: number, from = 0) =>
    Array.from({ length: count }, (_, index) => encodeSections(['', sample('b', `host="h${from + index}",mountpoint="/dätä"`, index)]));
  const text = (runs: Buffer[]) => Buffer.concat(runs).toString();

  it('concatenates one section of every block, in order, multi-byte text intact', () => {
    const all = blocks(150);
    expect(text(new FamilyRuns(1).update(all))).toBe(all.map((block) => sectionText(block, 1)).join(''));
    expect(text(new FamilyRuns(0).update(all))).toBe('');
  });

  it('copies again only the runs whose blocks changed, and follows blocks that come and go', () => {
    const sut = new FamilyRuns(1);
    const all = blocks(150);
    const first = sut.update(all);
    all[70] = encodeSections(['', 'changed\n']);
    const second = sut.update(all);
    expect(second.map((run, index) => run === first[index])).toEqual([true, false, true]);
    expect(text(second)).toContain('changed\n');

    all.splice(10, 1);
    const third = sut.update(all);
    expect(text(third)).toBe(all.map((block) => sectionText(block, 1)).join(''));
    expect(text(sut.update([]))).toBe('');
  });
});
