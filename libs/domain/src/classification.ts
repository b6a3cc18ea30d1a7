/** From least to most sensitive; a host's accreditation is the highest of these it may hold. */
export const CLASSIFICATIONS = ['OFFICIAL', 'OFFICIAL-SENSITIVE', 'SECRET'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

export function isClassification(value: string): value is Classification {
  return (CLASSIFICATIONS as readonly string[]).includes(value);
}

export function classificationRank(classification: Classification): number {
  return CLASSIFICATIONS.indexOf(classification);
}

export function mayHold(accreditation: Classification, classification: Classification): boolean {
  return classificationRank(accreditation) >= classificationRank(classification);
}
