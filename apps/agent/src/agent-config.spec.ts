import { join } from 'node:path';
import { AgentConfigError, agentConfig, loadAgentConfig } from './agent-config';

describe(agentConfig.name, () => {
  it('applies the documented defaults', () => {
    const sut = agentConfig({ controlUrl: 'http://127.0.0.1:3000' });
    expect(sut).toMatchObject({ dataDir: '/var/lib/dcm-agent', intervalSeconds: 15, storageMounts: ['/'], spool: { maxBytes: 64 * 2 ** 20 }, tenants: {} });
    expect(sut.hostname).toMatch(/^[a-z0-9][a-z0-9._-]*$/);
  });

  it('reads byte sizes with units and tenant mappings', () => {
    const sut = agentConfig({
      controlUrl: 'https://dcm.example:3000',
      spool: { maxBytes: '16MiB' },
      tenants: { torfaen: { mounts: ['/srv/tenants/torfaen'], cgroups: ['/sys/fs/cgroup/tenants.slice/torfaen.slice'] } },
    });
    expect(sut.spool.maxBytes).toBe(16 * 2 ** 20);
    expect(sut.tenants.torfaen).toEqual({ mounts: ['/srv/tenants/torfaen'], cgroups: ['/sys/fs/cgroup/tenants.slice/torfaen.slice'] });
  });

  it('refuses a spool too small to hold an outage, and resolves a relative data directory', () => {
    expect(() => agentConfig({ controlUrl: 'http://127.0.0.1:3000', spool: { maxBytes: '1KiB' } })).toThrow(/spool\.maxBytes: must be at least 64KiB/);
    expect(agentConfig({ controlUrl: 'http://127.0.0.1:3000', dataDir: 'data/agent' }).dataDir).toBe(join(process.cwd(), 'data/agent'));
  });

  it('names every bad setting in one error', () => {
    let caught: unknown;
    try {
      agentConfig({
        controlUrl: 'ftp://x',
        intervalSeconds: 0,
        spool: { maxBytes: '-1MiB' },
        storageMounts: ['srv'],
        tenants: { 'Not A Slug': {} },
        colour: 'blue',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AgentConfigError);
    const problems = (caught as AgentConfigError).problems.join('\n');
    for (const setting of ['controlUrl', 'intervalSeconds', 'spool.maxBytes', 'storageMounts.0', 'tenants', 'colour']) expect(problems).toContain(setting);
  });
});

describe(loadAgentConfig.name, () => {
  it('accepts the shipped example, which documents every setting', () => {
    const sut = loadAgentConfig(join(__dirname, '../../../config/agent.example.yaml'));
    expect(sut).toMatchObject({
      controlUrl: 'http://127.0.0.1:3000',
      intervalSeconds: 15,
      storageMounts: ['/'],
      spool: { maxBytes: 64 * 2 ** 20 },
      logLevel: 'info',
    });
  });
});
