import { formatAmount, formatAmountOf, type ResourceUnit } from '@dcm/domain';
import { stringify } from 'yaml';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export type Cell = string | number | null | undefined;

/** Where the CLI writes; tests and main pass the process streams. */
export interface Printer {
  out(text: string): void;
  err(text: string): void;
}

export const processPrinter: Printer = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/**
 * Prints the API's answer as JSON or YAML untouched (for scripts), or as the human view `table` renders.
 */
export function render<T>(printer: Printer, format: OutputFormat, data: T, table: (data: T) => string): void {
  if (format === 'json') printer.out(`${JSON.stringify(data, null, 2)}\n`);
  else if (format === 'yaml') printer.out(stringify(data));
  else printer.out(table(data));
}

/** Space-aligned columns with an upper-case header, like kubectl: easy to read and to grep or awk. */
export function columns(headers: string[], rows: Cell[][]): string {
  const text = [headers.map((header) => header.toUpperCase()), ...rows.map((row) => row.map(cell))];
  const widths = headers.map((_, index) => Math.max(...text.map((row) => (row[index] ?? '').length)));
  return text
    .map(
      (row) =>
        row
          .map((value, index) => (index === row.length - 1 ? value : value.padEnd(widths[index])))
          .join('   ')
          .trimEnd() + '\n',
    )
    .join('');
}

/** One record as "Field: value" lines. */
export function fields(entries: [string, Cell][]): string {
  const width = Math.max(...entries.map(([label]) => label.length)) + 1;
  return entries.map(([label, value]) => `${`${label}:`.padEnd(width)} ${cell(value)}`.trimEnd() + '\n').join('');
}

export function cell(value: Cell): string {
  if (value === null || value === undefined || value === '') return '-';
  return String(value);
}

export function amount(value: number | null | undefined, unit: ResourceUnit): string {
  return value === null || value === undefined ? '-' : formatAmount(value, unit);
}

/** Resources without a declared unit (an allocation's) as `vcpu=8 memory=32GiB`, the way they are typed in. */
export function resources(amounts: Record<string, number>): string {
  return Object.entries(amounts)
    .map(([resourceClass, value]) => `${resourceClass}=${formatAmountOf(resourceClass, value).replace(' ', '')}`)
    .join(' ');
}

export function days(value: number | null): string {
  return value === null ? 'not growing' : value.toFixed(1);
}

/** A timestamp to the second, in UTC, without the noise of milliseconds. */
export function when(iso: string | null | undefined): string {
  return iso ? iso.replace(/\.\d+Z$/, 'Z') : '-';
}
