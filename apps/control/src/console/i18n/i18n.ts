import { formatAmount, ResourceUnit } from '@dcm/domain';
import { cy } from './cy';
import { en, MessageKey } from './en';

export const LANGUAGES = ['en', 'cy'] as const;
export type Lang = (typeof LANGUAGES)[number];
export const LANGUAGE_COOKIE = 'dcm_lang';

export const CATALOGUES: Record<Lang, Record<MessageKey, string>> = { en, cy };
const LOCALES: Record<Lang, string> = { en: 'en-GB', cy: 'cy-GB' };

export function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

export function isMessageKey(key: string): key is MessageKey {
  return Object.hasOwn(en, key);
}

/** What a page's templates use to say anything: the catalogue of its language, and numbers, amounts and times in it. */
export interface Messages {
  lang: Lang;
  t(key: MessageKey, values?: Record<string, string | number>): string;
  number(value: number): string;
  amount(value: number | null | undefined, unit: ResourceUnit | string): string;
  percent(part: number, whole: number): string;
  /** part / whole as a width from 0 to 100 (a meter's bar); 0 for no figure. */
  share(part: number | null, whole: number): number;
  dateTime(value: string | Date | null | undefined): string;
  date(value: string | Date | null | undefined): string;
}

export function messagesFor(lang: Lang): Messages {
  const catalogue = CATALOGUES[lang];
  const numbers = new Intl.NumberFormat(LOCALES[lang], { maximumFractionDigits: 2 });
  const percents = new Intl.NumberFormat(LOCALES[lang], { style: 'percent', maximumFractionDigits: 0 });
  const dateTimes = new Intl.DateTimeFormat(LOCALES[lang], { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
  const dates = new Intl.DateTimeFormat(LOCALES[lang], { dateStyle: 'long', timeZone: 'UTC' });
  const t = (key: MessageKey, values: Record<string, string | number> = {}) => {
    // A key the catalogue lacks is a defect (the catalogue test finds it); the page shows the key rather than fail.
    const text = catalogue[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
  };
  return {
    lang,
    t,
    number: (value) => numbers.format(value),
    amount: (value, unit) => {
      if (value === null || value === undefined) return t('common.notMeasured');
      // Byte amounts in IEC units (as the API's and CLI's); the figure itself in the page's language.
      if (unit !== 'bytes') return numbers.format(value);
      const [figure, suffix] = formatAmount(value, 'bytes').split(' ');
      return `${numbers.format(Number(figure))} ${suffix}`;
    },
    percent: (part, whole) => (whole > 0 ? percents.format(part / whole) : percents.format(0)),
    share: (part, whole) => (part === null || whole <= 0 ? 0 : Math.round(Math.min(1, Math.max(0, part / whole)) * 1000) / 10),
    dateTime: (value) => (value ? `${dateTimes.format(new Date(value))} UTC` : t('common.never')),
    date: (value) => (value ? dates.format(new Date(value)) : t('common.never')),
  };
}

/** The text GOV.UK Frontend's components carry themselves, in the page's language (passed to each macro). */
export function govukTexts(messages: Messages) {
  const { t } = messages;
  return {
    skipLink: t('govuk.skipLink'),
    errorSummaryTitle: t('govuk.errorSummaryTitle'),
    errorPrefix: t('govuk.errorPrefix'),
    change: t('govuk.change'),
    back: t('govuk.back'),
    previous: t('govuk.previous'),
    next: t('govuk.next'),
    paginationLabel: t('govuk.paginationLabel'),
    serviceNavigationLabel: t('govuk.serviceNavigationLabel'),
    menu: t('govuk.menu'),
    important: t('govuk.important'),
    success: t('govuk.success'),
    dateDay: t('govuk.dateDay'),
    dateMonth: t('govuk.dateMonth'),
    dateYear: t('govuk.dateYear'),
    warning: t('govuk.warning'),
    footerLicence: t('govuk.footerLicence'),
    footerCopyright: t('govuk.footerCopyright'),
    passwordShow: t('govuk.passwordShow'),
    passwordHide: t('govuk.passwordHide'),
    passwordShowFull: t('govuk.passwordShowFull'),
    passwordHideFull: t('govuk.passwordHideFull'),
    passwordShownAnnouncement: t('govuk.passwordShownAnnouncement'),
    passwordHiddenAnnouncement: t('govuk.passwordHiddenAnnouncement'),
  };
}
