import { columns, fields, render, resources, type Printer } from './output';

describe('output', () => {
  it('aligns columns under upper-case headers, without trailing spaces', () => {
    expect(
      columns(
        ['slug', 'state', 'name'],
        [
          ['torfaen', 'active', 'Torfaen County Borough Council'],
          ['gwent-police', null, 'Gwent Police'],
        ],
      ),
    ).toBe('SLUG           STATE    NAME\n' + 'torfaen        active   Torfaen County Borough Council\n' + 'gwent-police   -        Gwent Police\n');
  });

  it('labels one record field by field', () => {
    expect(
      fields([
        ['Slug', 'torfaen'],
        ['Contact', ''],
      ]),
    ).toBe('Slug:    torfaen\nContact: -\n');
  });

  it('writes resources the way they are typed in, in IEC units', () => {
    expect(resources({ vcpu: 8, memory: 32 * 2 ** 30, custom_gpu: 2 })).toBe('vcpu=8 memory=32GiB custom_gpu=2');
  });

  it('prints the data itself as JSON or YAML, the table only for people', () => {
    let written = '';
    const sut: Printer = { out: (text) => (written += text), err: () => undefined };
    const table = () => 'TABLE\n';

    render(sut, 'json', { slug: 'torfaen' }, table);
    render(sut, 'yaml', { slug: 'torfaen' }, table);
    render(sut, 'table', { slug: 'torfaen' }, table);

    expect(written).toBe('{\n  "slug": "torfaen"\n}\nslug: torfaen\nTABLE\n');
  });
});
