import { CLASSIFICATIONS, classificationRank, isClassification, mayHold } from './classification';

describe(classificationRank.name, () => {
  it('ranks from least to most sensitive', () => {
    expect(CLASSIFICATIONS.map(classificationRank)).toEqual([0, 1, 2]);
    expect(classificationRank('SECRET')).toBe(2);
  });
});

describe(isClassification.name, () => {
  it.each(['OFFICIAL', 'OFFICIAL-SENSITIVE', 'SECRET'])('accepts %s', (value) => {
    expect(isClassification(value)).toBe(true);
  });

  it.each(['official', 'TOP-SECRET', ''])('rejects %p', (value) => {
    expect(isClassification(value)).toBe(false);
  });
});

describe(mayHold.name, () => {
  it.each([
    ['OFFICIAL', 'OFFICIAL', true],
    ['OFFICIAL', 'OFFICIAL-SENSITIVE', false],
    ['OFFICIAL', 'SECRET', false],
    ['OFFICIAL-SENSITIVE', 'OFFICIAL', true],
    ['OFFICIAL-SENSITIVE', 'OFFICIAL-SENSITIVE', true],
    ['OFFICIAL-SENSITIVE', 'SECRET', false],
    ['SECRET', 'OFFICIAL', true],
    ['SECRET', 'OFFICIAL-SENSITIVE', true],
    ['SECRET', 'SECRET', true],
  ] as const)('a host accredited %s may hold %s data: %p', (accreditation, classification, expected) => {
    expect(mayHold(accreditation, classification)).toBe(expected);
  });
});
