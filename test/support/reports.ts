import type { Report } from '@dcm/protocol';
import { REPORT_SCHEMA_VERSION } from '@dcm/protocol';

const GIB = 2 ** 30;
/** Three days ago, to the hour: report `seq` is collected `seq` seconds later, inside control's default time window. */
const COLLECTED_FROM = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3 * 86_400_000;

/** A realistic agent report: 4 filesystems and 2 interfaces, as a mid-sized host would send. */
export function aReport(seq: number, overrides: Partial<Report> = {}): Report {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    seq,
    collectedAt: new Date(COLLECTED_FROM + seq * 1000).toISOString(),
    cpu: { usageRatio: 0.31, load1: 4.2, load5: 3.9, load15: 3.1, logicalCores: 64 },
    memory: { totalBytes: 512 * GIB, availableBytes: 300 * GIB },
    filesystems: [
      { mountpoint: '/', fstype: 'ext4', sizeBytes: 100 * GIB, usedBytes: 20 * GIB, availBytes: 75 * GIB },
      { mountpoint: '/var', fstype: 'ext4', sizeBytes: 200 * GIB, usedBytes: 50 * GIB, availBytes: 140 * GIB },
      { mountpoint: '/srv', fstype: 'xfs', sizeBytes: 20_480 * GIB, usedBytes: 6_000 * GIB, availBytes: 14_480 * GIB },
      { mountpoint: '/boot', fstype: 'ext4', sizeBytes: GIB, usedBytes: GIB / 4, availBytes: (3 * GIB) / 4 },
    ],
    network: [
      { device: 'eno1', rxBytesTotal: 987_654_321 + seq, txBytesTotal: 123_456_789 + seq },
      { device: 'eno2', rxBytesTotal: 55_555 + seq, txBytesTotal: 44_444 + seq },
    ],
    inventory: { vcpu: 64, memoryBytes: 512 * GIB, storageBytes: 20_480 * GIB },
    tenants: {},
    ...overrides,
  };
}
