import type { Messages } from './i18n/i18n';

/**
 * GOV.UK's pagination component's parameters for page `page` of `total` items: previous and next, the first and last
 * pages, and the two around the current one, with ellipses between.
 */
export function pagination(messages: Messages, path: string, query: URLSearchParams, page: number, perPage: number, total: number) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  const href = (number: number) => {
    const params = new URLSearchParams(query);
    params.set('page', String(number));
    return `${path}?${params.toString()}`;
  };
  const shown = [...new Set([1, page - 1, page, page + 1, pages])].filter((number) => number >= 1 && number <= pages).sort((a, b) => a - b);
  const items: Record<string, unknown>[] = [];
  for (const [index, number] of shown.entries()) {
    if (index > 0 && number - shown[index - 1] > 1) items.push({ ellipsis: true });
    items.push({ number: messages.number(number), href: href(number), current: number === page, visuallyHiddenText: messages.t('paging.page', { number }) });
  }
  return {
    pages,
    items: pages > 1 ? items : [],
    previous: page > 1 ? { href: href(page - 1), text: messages.t('govuk.previous') } : undefined,
    next: page < pages ? { href: href(page + 1), text: messages.t('govuk.next') } : undefined,
    landmarkLabel: messages.t('govuk.paginationLabel'),
  };
}
