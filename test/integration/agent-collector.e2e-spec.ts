import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { validateReport } from '@dcm/protocol';
import type { AgentLogger } from '../../apps/agent/src/agent-logger';
import { Collector } from '../../apps/agent/src/collector';

const quiet: AgentLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** These read this machine for real and compare with what the kernel and coreutils say. */
describe(Collector.name, () => {
  const sut = new Collector({ hostname: 'this-host', storageMounts: ['/'], tenants: {} }, quiet);

  beforeAll(async () => {
    await sut.warmUp();
  }, 20_000);

  it('reports memory total equal to MemTotal in /proc/meminfo', async () => {
    const memTotalKib = Number(/^MemTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]);
    const report = await sut.collect(1);
    expect(report.memory.totalBytes).toBe(memTotalKib * 1024);
    expect(report.inventory.memoryBytes).toBe(memTotalKib * 1024);
    expect(report.memory.availableBytes).toBeGreaterThan(0);
    expect(report.memory.availableBytes).toBeLessThanOrEqual(report.memory.totalBytes);
  });

  it('reports as many vCPUs as nproc and os.availableParallelism()', async () => {
    const nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
    const report = await sut.collect(1);
    expect(report.inventory.vcpu).toBe(nproc);
    expect(report.inventory.vcpu).toBe(availableParallelism());
    expect(report.cpu.logicalCores).toBe(nproc);
  });

  it('reports the root filesystem within 1 % of df -B1, and counts it as storage', async () => {
    const [, size] = execFileSync('df', ['-B1', '--output=target,size', '/'], { encoding: 'utf8' }).trim().split('\n')[1].trim().split(/\s+/);
    const report = await sut.collect(1);
    const root = report.filesystems.find((fs) => fs.mountpoint === '/');
    expect(root).toBeDefined();
    expect(Math.abs(root!.sizeBytes - Number(size)) / Number(size)).toBeLessThan(0.01);
    expect(report.inventory.storageBytes).toBe(root!.sizeBytes);
  });

  it('produces a report control accepts, and facts for enrolment', async () => {
    const report = await sut.collect(7, new Date('2026-11-22T10:00:00Z'));
    expect(validateReport(report)).toEqual({ ok: true, value: report });
    expect(report).toMatchObject({ seq: 7, collectedAt: '2026-11-22T10:00:00.000Z' });
    expect(report.network.map((device) => device.device)).not.toContain('lo');
    const facts = await sut.facts();
    expect(facts).toMatchObject({ hostname: 'this-host', logicalCores: report.inventory.vcpu, memoryTotalBytes: report.memory.totalBytes });
    expect(facts.storage).toEqual([{ mountpoint: '/', sizeBytes: report.inventory.storageBytes }]);
  });

  it('counts a storage mount that is not mounted as nothing, and says so once', async () => {
    const warnings: string[] = [];
    const logger: AgentLogger = { ...quiet, warn: (_details, message) => warnings.push(message) };
    const withMissingMount = new Collector({ hostname: 'this-host', storageMounts: ['/', '/nonexistent/dcm-storage'], tenants: {} }, logger);

    const first = await withMissingMount.collect(1);
    await withMissingMount.collect(2);

    expect(first.inventory.storageBytes).toBe(first.filesystems.find((fs) => fs.mountpoint === '/')!.sizeBytes);
    expect(warnings.filter((message) => message.includes('storageMounts'))).toHaveLength(1);
  });
});
