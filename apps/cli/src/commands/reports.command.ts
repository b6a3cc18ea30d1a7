import { formatAmount, formatAmountOf, type ResourceUnit } from '@dcm/domain';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { IdleReport, Showback, ShowbackQuery } from '../api-client';
import { UsageError } from '../cli-config';
import { columns, render, resources, when } from '../output';
import { type CommandContext, type OutputOptions, withExamples, withOutput } from './command-context';
import { instant } from './time-args';

interface ShowbackOptions extends OutputOptions {
  month?: string;
  from?: string;
  to?: string;
  format?: 'csv';
}

interface IdleOptions extends OutputOptions {
  threshold?: number;
  window?: string;
}

export function registerReports(program: Command, context: CommandContext): void {
  withExamples(
    withOutput(
      program
        .command('showback')
        .description('per tenant and class, unit-hours allocated and measured in a period, and their cost when control has prices configured')
        .addOption(new Option('--month <YYYY-MM>', 'a calendar month in UTC (default: the current one, up to now)').argParser(month).conflicts(['from', 'to']))
        .option('--from <time>', 'start of the period (inclusive): a date (midnight UTC) or date-time with a zone', instant)
        .option('--to <time>', 'end of the period (exclusive)', instant)
        .addOption(new Option('--format <format>', "csv: control's CSV, written as it comes (for a spreadsheet)").choices(['csv'])),
    ),
    'dcm showback --month 2026-10',
    'dcm showback --month 2026-10 --format csv > showback-2026-10.csv',
    'dcm showback --from 2026-10-01 --to 2026-10-08 -o json',
  ).action(async (options: ShowbackOptions) => {
    const period = showbackPeriod(options, new Date());
    if (options.format === 'csv') context.printer.out(await context.client().showbackCsv(period));
    else render(context.printer, options.output, await context.client().showback(period), showbackTable);
  });

  withExamples(
    withOutput(
      program
        .command('idle')
        .description("active allocations whose tenant's peak measured use on the host stayed under a share of what it was allocated")
        .option('--threshold <fraction>', 'the share of the allocated amount peak use stayed under, 0.001–1 (control default 0.1)', fraction)
        .option('--window <duration>', 'how far back to look: 90m, 36h, 7d (control default 7d)', idleWindow),
    ),
    'dcm idle',
    'dcm idle --threshold 0.2 --window 30d',
  ).action(async (options: IdleOptions) => {
    render(context.printer, options.output, await context.client().idle({ threshold: options.threshold, window: options.window }), idleTable);
  });
}

/** The period a showback is asked for: --month, --from and --to together, or the current month. */
export function showbackPeriod(options: Pick<ShowbackOptions, 'month' | 'from' | 'to'>, now: Date): ShowbackQuery {
  if (options.from !== undefined || options.to !== undefined) {
    if (options.from === undefined || options.to === undefined) throw new UsageError('give both --from and --to, or --month YYYY-MM');
    return { from: options.from, to: options.to };
  }
  const [year, monthIndex] = options.month
    ? [Number(options.month.slice(0, 4)), Number(options.month.slice(5)) - 1]
    : [now.getUTCFullYear(), now.getUTCMonth()];
  const day = (offset: number) => new Date(Date.UTC(year, monthIndex + offset, 1)).toISOString().slice(0, 10);
  return { from: day(0), to: day(1) };
}

function month(value: string): string {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(value)) throw new InvalidArgumentError('must be a month as YYYY-MM, e.g. 2026-10');
  return value;
}

function fraction(value: string): number {
  const parsed = Number(value);
  if (!/^\d*\.?\d+$/.test(value) || parsed < 0.001 || parsed > 1) throw new InvalidArgumentError('must be a fraction from 0.001 to 1, e.g. 0.1 for 10 %');
  return parsed;
}

function idleWindow(value: string): string {
  if (!/^[1-9]\d{0,5}[mhd]$/.test(value)) throw new InvalidArgumentError('must be a duration in minutes, hours or days, e.g. 90m, 36h or 7d');
  return value;
}

/** Unit-hours as people read them: byte-hours in IEC units (`4.5 GiB-h`), counts as they are (vCPU-hours). */
function unitHours(value: number | null, unit: ResourceUnit): string {
  if (value === null) return '-';
  return unit === 'bytes' ? `${formatAmount(value, 'bytes')}-h` : String(Math.round(value * 100) / 100);
}

function cost(value: number | null | undefined, currency: string, digits: number): string {
  return value === null || value === undefined ? '-' : `${value.toFixed(digits)} ${currency}`;
}

function showbackTable(report: Showback): string {
  const heading =
    `Showback from ${when(report.from)} to ${when(report.to)}: unit-hours allocated and measured ` +
    `(vCPU-hours for vcpu, byte-hours such as GiB-h for byte classes; measured: ${report.measuredClasses.join(', ')})\n`;
  if (report.tenants.length === 0) return `${heading}\nNo tenant had allocations or measured use in this period.\n`;
  const prices = report.prices;
  const digits = prices ? new Intl.NumberFormat('en', { style: 'currency', currency: prices.currency }).resolvedOptions().maximumFractionDigits! : 0;
  const rows = report.tenants.flatMap(({ tenant, resources, totals }) => [
    ...Object.entries(resources).map(([resourceClass, resource]) => [
      tenant,
      resourceClass,
      unitHours(resource.allocatedUnitHours, resource.unit),
      unitHours(resource.usedUnitHours, resource.unit),
      ...(prices ? [cost(resource.allocatedCost, prices.currency, digits), cost(resource.usedCost, prices.currency, digits)] : []),
    ]),
    ...(prices ? [[tenant, 'total', '', '', cost(totals?.allocatedCost, prices.currency, digits), cost(totals?.usedCost, prices.currency, digits)]] : []),
  ]);
  const headers = ['tenant', 'resource', 'allocated', 'used', ...(prices ? ['allocated cost', 'used cost'] : [])];
  const priceList = prices
    ? `\nPrices (${prices.currency}): ${Object.entries(prices.classes)
        .map(([resourceClass, { price, per }]) => `${resourceClass} ${price} per ${per}`)
        .join(', ')}\n`
    : '';
  return `${heading}\n${columns(headers, rows)}${priceList}`;
}

function idleTable(report: IdleReport): string {
  const percent = (ratio: number) => `${Math.round(ratio * 1000) / 10}%`;
  const heading = `Allocations older than ${report.window} whose peak use from ${when(report.windowStart)} to ${when(report.at)} stayed under ${percent(report.threshold)} of allocated\n`;
  if (report.allocations.length === 0) return `${heading}\nNone: every allocation with measured use was busier than that, or is too young to judge.\n`;
  const rows = report.allocations.map((allocation) => [
    allocation.id,
    allocation.tenant,
    allocation.host,
    allocation.site,
    when(allocation.createdAt),
    resources(allocation.resources),
    Object.entries(allocation.measured)
      .map(
        ([resourceClass, use]) =>
          `${resourceClass} ${formatAmountOf(resourceClass, use.peakUsed)} of ${formatAmountOf(resourceClass, use.allocated)} (${percent(use.peakRatio)})`,
      )
      .join(', '),
  ]);
  return `${heading}\n${columns(['id', 'tenant', 'host', 'site', 'created', 'resources', 'peak use'], rows)}`;
}
