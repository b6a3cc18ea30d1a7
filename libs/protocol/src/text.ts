// No imports: the agent loads this file alone (the schemas and their validators are control's).

const UNCLEAN_TEXT = /[\p{Cc}\p{Cs}]/u;
const UNCLEAN_TEXT_ALL = /[\p{Cc}\p{Cs}]/gu;

/** Well-formed Unicode (no lone surrogate) without control characters (no NUL, CR, LF, …): what the protocol accepts. */
export function isCleanText(text: string): boolean {
  return !UNCLEAN_TEXT.test(text);
}

/** `text` cut to `maxLength`, with each control character or lone surrogate (a pair the cut split, too) as U+FFFD. */
export function cleanText(text: string, maxLength: number): string {
  return text.slice(0, maxLength).replace(UNCLEAN_TEXT_ALL, '\uFFFD');
}
