import { execFileSync, spawn } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentLogger } from '../../apps/agent/src/agent-logger';
import { TenantUseMeter } from '../../apps/agent/src/tenant-use';
import { pause } from '../support/eventually';

const MIB = 2 ** 20;

function recordingLogger(): AgentLogger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, info: () => undefined, error: () => undefined, warn: (details, message) => warnings.push(`${message} ${JSON.stringify(details)}`) };
}

describe(TenantUseMeter.name, () => {
  let mount: string;

  beforeEach(() => {
    mount = mkdtempSync(join(tmpdir(), 'dcm-tenant-'));
  });

  afterEach(() => {
    rmSync(mount, { recursive: true, force: true });
  });

  it("reports at least the bytes written under a tenant's directory-backed path", async () => {
    mkdirSync(join(mount, 'db'));
    writeFileSync(join(mount, 'db', 'data.bin'), Buffer.alloc(3 * MIB, 1));
    writeFileSync(join(mount, 'notes.txt'), 'x'.repeat(10_000));
    const sut = new TenantUseMeter({ torfaen: { mounts: [mount], cgroups: [] } }, recordingLogger());

    const use = await sut.measure();

    expect(use.torfaen.storageUsedBytes).toBeGreaterThanOrEqual(3 * MIB + 10_000);
    expect(use.torfaen.storageUsedBytes).toBeLessThan(4 * MIB);
    expect(use.torfaen).not.toHaveProperty('memoryBytes');
  });

  it('agrees with du, counting hard links once and not following symlinks', async () => {
    writeFileSync(join(mount, 'data.bin'), Buffer.alloc(2 * MIB, 1));
    linkSync(join(mount, 'data.bin'), join(mount, 'same-data.bin'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'dcm-elsewhere-'));
    try {
      writeFileSync(join(elsewhere, 'big.bin'), Buffer.alloc(8 * MIB, 1));
      symlinkSync(elsewhere, join(mount, 'link-to-elsewhere'));
      const sut = new TenantUseMeter({ torfaen: { mounts: [mount], cgroups: [] } }, recordingLogger());

      const use = await sut.measure();

      const du = Number(execFileSync('du', ['-sx', '-B1', mount], { encoding: 'utf8' }).split('\t')[0]);
      expect(use.torfaen.storageUsedBytes).toBe(du);
      expect(use.torfaen.storageUsedBytes).toBeLessThan(3 * MIB);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it("uses the filesystem's used blocks where the path is a mount point, as df does", async () => {
    const sut = new TenantUseMeter({ cardiff: { mounts: ['/'], cgroups: [] } }, recordingLogger());

    const use = await sut.measure();

    const dfUsed = Number(execFileSync('df', ['-B1', '--output=used', '/'], { encoding: 'utf8' }).trim().split('\n')[1]);
    expect(Math.abs(use.cardiff.storageUsedBytes! - dfUsed) / dfUsed).toBeLessThan(0.01);
  });

  it('leaves out what cannot be read instead of guessing, and warns once per path', async () => {
    const logger = recordingLogger();
    const sut = new TenantUseMeter({ monmouthshire: { mounts: ['/nonexistent/dcm'], cgroups: ['/nonexistent/cgroup'] } }, logger);

    await expect(sut.measure()).resolves.toEqual({ monmouthshire: {} });
    await expect(sut.measure()).resolves.toEqual({ monmouthshire: {} });

    expect(logger.warnings).toHaveLength(3); // the path, memory.current and cpu.stat: each once, not per report
    expect(logger.warnings.join('\n')).toContain('/nonexistent/dcm');
    expect(logger.warnings.join('\n')).toContain('/nonexistent/cgroup/memory.current');
  });

  // The cgroup v2 hierarchy: /sys/fs/cgroup on unified hosts, /sys/fs/cgroup/unified on hybrid ones.
  const cgroupRoot = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .find((fields) => fields[2] === 'cgroup2')?.[1];
  const cgroupV2Unwritable = (() => {
    if (!cgroupRoot) return 'this machine mounts no cgroup v2 hierarchy';
    const probe = join(cgroupRoot, `dcm-probe-${process.pid}`);
    try {
      mkdirSync(probe);
      rmdirSync(probe);
      return null;
    } catch (error) {
      return `the kernel gives this user no write access to cgroup v2 at ${cgroupRoot} (${(error as Error).message})`;
    }
  })();
  const memoryControllerMissing =
    cgroupV2Unwritable ??
    (readFileSync(join(cgroupRoot!, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('memory')
      ? null
      : `the memory controller is not on cgroup v2 here (${cgroupRoot}/cgroup.controllers lacks it: a hybrid host with memory on v1), so no cgroup has memory.current`);

  /** A child cgroup with a process that burns CPU and holds memory inside it, for the duration of `body`. */
  async function withBusyCgroup(body: (cgroup: string) => Promise<void>): Promise<void> {
    const cgroup = join(cgroupRoot!, `dcm-test-${process.pid}`);
    mkdirSync(cgroup);
    if (!memoryControllerMissing) writeFileSync(join(cgroupRoot!, 'cgroup.subtree_control'), '+memory');
    const busy = spawn(
      process.execPath,
      ['-e', 'const held = Buffer.alloc(32 * 2 ** 20, 1); const end = Date.now() + 400; while (Date.now() < end); setInterval(() => held.length, 1000);'],
      {
        stdio: 'ignore',
      },
    );
    try {
      writeFileSync(join(cgroup, 'cgroup.procs'), String(busy.pid));
      await pause(600); // it allocates and spins for 400 ms: its memory and CPU time are then in the cgroup's counters
      await body(cgroup);
    } finally {
      busy.kill('SIGKILL');
      await new Promise((resolve) => busy.once('exit', resolve));
      for (let attempt = 0; attempt < 50 && existsSync(cgroup); attempt++) {
        try {
          rmdirSync(cgroup);
        } catch {
          await pause(20); // the killed process leaves the cgroup a moment later
        }
      }
    }
  }

  (cgroupV2Unwritable ? it.skip : it)(
    `reads the CPU time of a tenant's cgroup (cpu.stat usage_usec)${cgroupV2Unwritable ? ` — SKIPPED: ${cgroupV2Unwritable}` : ''}`,
    () =>
      withBusyCgroup(async (cgroup) => {
        const sut = new TenantUseMeter({ gwent: { mounts: [], cgroups: [cgroup] } }, recordingLogger());
        const use = await sut.measure();
        const usageUsec = Number(/^usage_usec (\d+)$/m.exec(readFileSync(join(cgroup, 'cpu.stat'), 'utf8'))![1]);
        expect(use.gwent.cpuUsageSecondsTotal).toBeGreaterThan(0.1); // the 0.4 s busy loop
        expect(use.gwent.cpuUsageSecondsTotal).toBeLessThanOrEqual(usageUsec / 1e6);
      }),
  );

  (memoryControllerMissing ? it.skip : it)(
    `reads the memory of a tenant's cgroup (memory.current)${memoryControllerMissing ? ` — SKIPPED: ${memoryControllerMissing}` : ''}`,
    () =>
      withBusyCgroup(async (cgroup) => {
        const sut = new TenantUseMeter({ gwent: { mounts: [], cgroups: [cgroup] } }, recordingLogger());
        const use = await sut.measure();
        expect(use.gwent.memoryBytes).toBeGreaterThanOrEqual(32 * MIB);
        expect(Math.abs(use.gwent.memoryBytes! - Number(readFileSync(join(cgroup, 'memory.current'), 'utf8'))) / use.gwent.memoryBytes!).toBeLessThan(0.05);
      }),
  );
});
