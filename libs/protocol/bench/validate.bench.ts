/**
 * Micro benchmark of report validation, control's ingest hot path. No Jest: run it alone, with the settings control
 * runs with, so that nothing else shares the heap or the JIT:
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register libs/protocol/bench/validate.bench.ts
 *
 * It times the validators @dcm/protocol exports (ajv, compiled from the TypeBox schemas) on a realistic report
 * (4 filesystems, 2 interfaces, 3 tenants), and beside them TypeBox's own compiler on the same schema, the
 * alternative that was considered, and JSON.parse of the same report for scale.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { FormatRegistry } from '@sinclair/typebox';
import { fullFormats } from 'ajv-formats/dist/formats';
import { REPORT_SCHEMA_VERSION, Report, ReportSchema, validateReport, validateReportBatch } from '../src';

const GIB = 2 ** 30;

function aReport(seq: number): Report {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    seq,
    collectedAt: new Date(Date.UTC(2026, 10, 22, 10, 0, 0) + seq * 15_000).toISOString(),
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
    tenants: {
      torfaen: { storageUsedBytes: 4 * GIB, memoryBytes: 16 * GIB, cpuUsageSecondsTotal: 123_456.78 },
      'gwent-police': { storageUsedBytes: 900 * GIB, memoryBytes: 64 * GIB, cpuUsageSecondsTotal: 9_876_543.21 },
      monmouthshire: { storageUsedBytes: 12 * GIB },
    },
  };
}

/** Median µs per item over `rounds` rounds of `iterations` calls, after a warm-up round. */
function time(label: string, itemsPerCall: number, iterations: number, call: (index: number) => unknown): number {
  const rounds = 7;
  let sink = 0;
  for (let index = 0; index < iterations; index++) sink += call(index) ? 1 : 0;
  const perItem: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = process.hrtime.bigint();
    for (let index = 0; index < iterations; index++) sink += call(index) ? 1 : 0;
    perItem.push(Number(process.hrtime.bigint() - started) / 1000 / (iterations * itemsPerCall));
  }
  perItem.sort((a, b) => a - b);
  const median = perItem[Math.floor(rounds / 2)];
  console.log(
    `  ${label.padEnd(58)} ${median.toFixed(3).padStart(8)} µs/report  (min ${perItem[0].toFixed(3)}, max ${perItem.at(-1)!.toFixed(3)}; ${sink > 0 ? 'ok' : '?'})`,
  );
  return median;
}

function main(): void {
  // A pool of distinct reports, so that no engine cache sees the same object every call.
  const reports = Array.from({ length: 1_000 }, (_, index) => aReport(index + 1));
  const texts = reports.map((report) => JSON.stringify(report));
  const batches = Array.from({ length: 10 }, (_, batch) => reports.slice(batch * 50, batch * 50 + 500));
  const invalid = reports.map((report) => ({ ...report, cpu: { ...report.cpu, usageRatio: 2 }, extra: true }));

  for (const report of reports) if (!validateReport(report).ok) throw new Error('the benchmark report does not validate');

  // TypeBox's compiler checks formats only through its registry: give it ajv-formats' own checks, for a fair race.
  const dateTime = fullFormats['date-time'] as { validate: (value: string) => boolean };
  FormatRegistry.Set('date-time', (value) => dateTime.validate(value));
  const typeboxReport = TypeCompiler.Compile(ReportSchema);
  if (!reports.every((report) => typeboxReport.Check(report))) throw new Error('TypeBox refuses the benchmark report');

  console.log(`validation of one realistic report (${texts[0].length} bytes of JSON), node ${process.version}:`);
  const ajvOne = time('validateReport (ajv, exported)', 1, 100_000, (index) => validateReport(reports[index % 1_000]).ok);
  time('validateReportBatch, an array of 500 (ajv, exported)', 500, 400, (index) => validateReportBatch(batches[index % 10]).ok);
  time('validateReport of an invalid report, all errors (ajv)', 1, 50_000, (index) => !validateReport(invalid[index % 1_000]).ok);
  const typebox = time('TypeCompiler.Check (TypeBox, considered)', 1, 100_000, (index) => typeboxReport.Check(reports[index % 1_000]));
  time('JSON.parse of the same report, for scale', 1, 50_000, (index) => JSON.parse(texts[index % 1_000]) !== null);
  console.log(`  → ajv ${ajvOne.toFixed(2)} µs/report; TypeBox's compiler ${(typebox / ajvOne).toFixed(2)}× that`);
}

main();
