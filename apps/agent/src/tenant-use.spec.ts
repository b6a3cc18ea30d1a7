import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureTenants } from './tenant-use';

describe(measureTenants.name, () => {
  it("reports at least the bytes written under a tenant's directory-backed mount", async () => {
    const mount = mkdtempSync(join(tmpdir(), 'dcm-tenant-'));
    try {
      mkdirSync(join(mount, 'db'));
      writeFileSync(join(mount, 'db', 'data.bin'), Buffer.alloc(3 * 1024 * 1024, 1));
      writeFileSync(join(mount, 'notes.txt'), 'x'.repeat(10_000));

      const use = await measureTenants({ torfaen: { mounts: [mount], cgroups: [] } });

      expect(use.torfaen.storageUsedBytes).toBeGreaterThanOrEqual(3 * 1024 * 1024 + 10_000);
      expect(use.torfaen.storageUsedBytes).toBeLessThan(4 * 1024 * 1024);
      expect(use.torfaen).not.toHaveProperty('memoryBytes');
    } finally {
      rmSync(mount, { recursive: true, force: true });
    }
  });

  it('leaves out what cannot be read instead of guessing', async () => {
    await expect(measureTenants({ monmouthshire: { mounts: ['/nonexistent/dcm'], cgroups: ['/nonexistent/cgroup'] } })).resolves.toEqual({ monmouthshire: {} });
  });

  // The cgroup v2 hierarchy: /sys/fs/cgroup on unified hosts, /sys/fs/cgroup/unified on hybrid ones.
  const cgroupRoot = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .find((fields) => fields[2] === 'cgroup2')?.[1];
  const cgroupV2Writable = (() => {
    if (!cgroupRoot) return 'this machine mounts no cgroup v2 hierarchy';
    const probe = join(cgroupRoot, `dcm-probe-${process.pid}`);
    try {
      mkdirSync(probe);
      rmdirSync(probe);
      return null;
    } catch (error) {
      return `the kernel gives no write access to cgroup v2 here (${(error as Error).message})`;
    }
  })();

  (cgroupV2Writable ? it.skip : it)(`reads memory and CPU of a tenant's cgroup${cgroupV2Writable ? ` — skipped: ${cgroupV2Writable}` : ''}`, async () => {
    const cgroup = join(cgroupRoot!, `dcm-test-${process.pid}`);
    mkdirSync(cgroup);
    try {
      const use = await measureTenants({ gwent: { mounts: [], cgroups: [cgroup] } });
      // cpu.stat is core to cgroup v2; memory.current only where the memory controller is on v2 (not on hybrid hosts).
      expect(use.gwent.cpuUsageSecondsTotal).toBe(0);
      if (existsSync(join(cgroup, 'memory.current'))) expect(use.gwent.memoryBytes).toBe(Number(readFileSync(join(cgroup, 'memory.current'), 'utf8').trim()));
      else expect(use.gwent).not.toHaveProperty('memoryBytes');
    } finally {
      rmdirSync(cgroup);
    }
  });
});
