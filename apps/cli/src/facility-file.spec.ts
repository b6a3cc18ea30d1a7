import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FacilityFileError, formatPath, parseFacilityFile } from './facility-file';

const problemsOf = (text: string): string[] => {
  try {
    parseFacilityFile(text, 'test.yaml');
  } catch (error) {
    if (error instanceof FacilityFileError) return error.problems;
    throw error;
  }
  throw new Error('expected the file to be refused');
};

describe('facility file', () => {
  it('reads the shipped Blaenavon example', () => {
    const file = parseFacilityFile(readFileSync(join(__dirname, '..', '..', '..', 'config', 'facilities', 'blaenavon.yaml'), 'utf8'));

    expect(file.tenants.map((tenant) => tenant.slug)).toContain('gwent-police');
    expect(file.hosts.length).toBeGreaterThanOrEqual(16);
    expect(file.hosts.filter((host) => host.dedicatedTenant === 'gwent-police').every((host) => host.accreditation === 'OFFICIAL-SENSITIVE')).toBe(true);
  });

  it('parses amounts with their suffixes, keeping what was written, and applies inventory defaults', () => {
    const file = parseFacilityFile(`
tenants:
  - { slug: torfaen, name: Torfaen, quotas: { vcpu: 64, memory: 256GiB, storage: 2TB } }
hosts:
  - name: blv-c01
    site: blv-hall-a
    inventories:
      vcpu: { total: 64 }
      memory: { total: 512GiB, reserved: 16GiB }
`);

    expect(file.tenants[0].quotas).toEqual({
      vcpu: { input: 64, value: 64 },
      memory: { input: '256GiB', value: 256 * 2 ** 30 },
      storage: { input: '2TB', value: 2e12 },
    });
    expect(file.hosts[0].inventories!.vcpu).toEqual({
      total: { input: 64, value: 64 },
      reserved: null,
      allocationRatio: 4,
      minUnit: null,
      maxUnit: null,
      stepSize: null,
    });
    expect(file.hosts[0].inventories!.memory.allocationRatio).toBe(1);
    expect(file.hosts[0].inventories!.memory.reserved).toEqual({ input: '16GiB', value: 16 * 2 ** 30 });
  });

  it('names every problem by its path', () => {
    const problems = problemsOf(`
tenants:
  - { slug: Torfaen, name: "", isolation: private, quotas: { vcpu: 8GiB, gpu: 1 } }
  - { slug: monmouthshire, name: Monmouthshire }
  - { slug: monmouthshire, name: Monmouthshire again }
hosts:
  - { name: blv-c01, site: blv-hall-a, inventories: { vcpu: { total: 64, reserved: 65 } } }
  - { name: blv-c02, site: blv-hall-a, rack: 3, colour: blue }
  - { name: blv-c01, site: blv-hall-a, inventories: { memory: { total: 1 TeraByte, allocationRatio: 0 } } }
  - { name: blv-p01, site: blv-hall-b, accreditation: OFFICIAL, dedicatedTenant: police }
  - { name: blv-p02, site: blv-hall-b, dedicatedTenant: gwent-police }
  - { name: blv-c03, site: blv-hall-a, inventories: { memory: { total: 1TiB } } }
  - { name: blv-c04, site: blv-hall-a, inventories: { memory: { total: 1TiB } } }
  - { name: blv-c05, site: blv-hall-a, inventories: { memory: { total: 1TiB } } }
  - { name: blv-c06, site: blv-hall-a, inventories: { memory: { total: 2TiB, minUnit: 8GiB, maxUnit: 4GiB } } }
`);
    const paths = problems.map((problem) => problem.slice(0, problem.indexOf(': ')));

    expect(paths).toEqual(
      expect.arrayContaining([
        'tenants[0].slug',
        'tenants[0].name',
        'tenants[0].isolation',
        'tenants[0].quotas.gpu',
        'tenants[0].quotas.vcpu',
        'tenants[2].slug',
        'hosts[0].inventories.vcpu.reserved',
        'hosts[1].rack',
        'hosts[1].colour',
        'hosts[2].name',
        'hosts[2].inventories.memory.total',
        'hosts[2].inventories.memory.allocationRatio',
        'hosts[8].inventories.memory.minUnit',
      ]),
    );
    expect(problems).toContain('tenants[2].slug: monmouthshire is already described at tenants[1]');
    expect(problems).toContain('tenants[0].quotas.vcpu: must be a plain count, without a unit suffix');
    expect(problems).toContain('hosts[1].colour: is not a known field');
    expect(problems).toContain('tenants[0].quotas.gpu: is not a resource class: vcpu, memory, storage or custom_<name>');
    expect(problems).toContain('hosts[2].inventories.memory.total: unknown unit suffix "TeraByte"');
  });

  it('refuses a host dedicated to a tenant its accreditation cannot hold', () => {
    expect(
      problemsOf(`
tenants: [{ slug: gwent-police, name: Gwent Police, classification: OFFICIAL-SENSITIVE }]
hosts: [{ name: blv-p01, site: blv-hall-b, dedicatedTenant: gwent-police }]
`),
    ).toEqual(['hosts[0].accreditation: OFFICIAL cannot hold data of gwent-police, which is OFFICIAL-SENSITIVE']);
  });

  it('reports YAML errors and a document that is not a mapping', () => {
    expect(problemsOf('tenants: [\n')[0]).toMatch(/^YAML: /);
    expect(problemsOf('tenants: []\ntenants: []\n')[0]).toMatch(/^YAML: /);
    expect(problemsOf('- just a list\n')).toEqual([expect.stringMatching(/^\(file\): /)]);
  });

  it('accepts an empty file as describing nothing', () => {
    expect(parseFacilityFile('')).toEqual({ tenants: [], hosts: [] });
  });

  it('formats paths as they are written in YAML terms', () => {
    expect(formatPath(['hosts', 3, 'inventories', 'memory', 'total'])).toBe('hosts[3].inventories.memory.total');
  });
});
