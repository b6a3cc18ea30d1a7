/**
 * Micro benchmark of report validation, control's ingest hot path. No Jest: run it alone, with the settings control
 * runs with, so that nothing else shares the heap or the JIT:
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register test/bench/validate.bench.ts
 *
 * It times the validators @dcm/protocol exports (ajv, compiled from the TypeBox schemas) on a realistic report
 * (4 filesystems, 2 interfaces, 3 tenants), and beside them TypeBox's own compiler on the same schema, the
 * alternative that was considered, and JSON.parse of the same report for scale.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { FormatRegistry } from '@sinclair/typebox';
import { fullFormats } from 'ajv-formats/dist/formats';
import { aReport as aRealisticReport } from '../support/reports';
import { Report, ReportSchema, validateReport, validateReportBatch } from '@dcm/protocol';

const GIB = 2 ** 30;

/** The e2e suites' realistic report (4 filesystems, 2 interfaces), with three tenants' use. */
function aReport(seq: number): Report {
  return aRealisticReport(seq, {
    tenants: {
      torfaen: { storageUsedBytes: 4 * GIB, memoryBytes: 16 * GIB, cpuUsageSecondsTotal: 123_456.78 },
      'gwent-police': { storageUsedBytes: 900 * GIB, memoryBytes: 64 * GIB, cpuUsageSecondsTotal: 9_876_543.21 },
      monmouthshire: { storageUsedBytes: 12 * GIB },
    },
  });
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
