import { messagesFor } from './i18n/i18n';
import { pagination } from './console-paging';

describe(pagination.name, () => {
  const messages = messagesFor('en');
  const pages = (page: number, total: number) =>
    pagination(messages, '/console/hosts', new URLSearchParams({ site: 'hall-a' }), page, 50, total).items.map((item) =>
      item.ellipsis ? '…' : `${String(item.number)}${item.current ? '*' : ''}`,
    );

  it('shows the first and last pages and the ones around the current one, with ellipses between', () => {
    expect(pages(1, 1000)).toEqual(['1*', '2', '…', '20']);
    expect(pages(10, 1000)).toEqual(['1', '…', '9', '10*', '11', '…', '20']);
    expect(pages(20, 1000)).toEqual(['1', '…', '19', '20*']);
    expect(pages(3, 200)).toEqual(['1', '2', '3*', '4']);
  });

  it('shows no page numbers for a single page, and keeps the filters in every link', () => {
    expect(pages(1, 50)).toEqual([]);
    expect(pages(1, 0)).toEqual([]);
    const sut = pagination(messages, '/console/hosts', new URLSearchParams({ site: 'hall-a' }), 2, 50, 120);
    expect([sut.previous?.href, sut.next?.href]).toEqual(['/console/hosts?site=hall-a&page=1', '/console/hosts?site=hall-a&page=3']);
  });
});
