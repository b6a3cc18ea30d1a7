import { MetricDefinition } from '../telemetry/metric-catalogue';

/** The Prometheus text format (version 0.0.4), which `promtool check metrics` and every scraper read. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const NEEDS_ESCAPING = /[\\"\n]/;
const ESCAPED = /[\\"\n]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n' };

/** A label value as the text format wants it: backslash, double quote and line feed escaped. */
export function labelValue(value: string): string {
  return NEEDS_ESCAPING.test(value) ? value.replace(ESCAPED, (character) => ESCAPES[character]) : value;
}

/** A sample value: integers exactly (no exponent below 1e21), and NaN, +Inf, -Inf as Prometheus spells them. */
export function sampleValue(value: number): string {
  if (Number.isFinite(value)) return String(value);
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? '+Inf' : '-Inf';
}

/** One series line: `name{labels} value\n`, where `labels` is already formatted (`a="x",b="y"`). */
export function sample(name: string, labels: string, value: number): string {
  return `${name}{${labels}} ${sampleValue(value)}\n`;
}

/** The `# HELP` and `# TYPE` lines that open a family; in HELP text only backslash and line feed are escaped. */
export function familyHeader(definition: Pick<MetricDefinition, 'name' | 'type' | 'help'>): string {
  const help = definition.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return `# HELP ${definition.name} ${help}\n# TYPE ${definition.name} ${definition.type}\n`;
}

/**
 * The lines of one host or tenant, one section (possibly empty) per metric family, encoded to UTF-8 in one buffer:
 * section `i` is `bytes[offsets[i], offsets[i + 1])`. One buffer per block keeps what the caches hold to a few objects
 * per host, which the garbage collector passes over cheaply.
 */
export interface Sections {
  bytes: Buffer;
  offsets: readonly number[];
}

export function encodeSections(sections: readonly string[]): Sections {
  const text = sections.join('');
  const bytes = Buffer.from(text);
  const offsets = new Array<number>(sections.length + 1);
  offsets[0] = 0;
  // All-ASCII text (the usual case) has byte offsets equal to character offsets.
  const ascii = bytes.length === text.length;
  for (let index = 0; index < sections.length; index++) {
    offsets[index + 1] = offsets[index] + (ascii ? sections[index].length : Buffer.byteLength(sections[index]));
  }
  return { bytes, offsets };
}

/** Section `index` of a block, as text. */
export function sectionText(block: Sections, index: number): string {
  return block.bytes.toString('utf8', block.offsets[index], block.offsets[index + 1]);
}

const EMPTY = Buffer.alloc(0);

/** Blocks per run: small enough that a change re-copies little, large enough that a scrape copies few buffers. */
const RUN_LENGTH = 64;

interface Run {
  blocks: Sections[];
  bytes: Buffer;
}

/**
 * One family's lines: section `section` of every block, concatenated in runs of consecutive blocks. A run is copied
 * again only when one of its blocks is a different one than last time (a block is replaced, never changed, when its
 * lines change, so the check compares references): a scrape after a few changes copies a few runs rather than every
 * host's lines.
 */
export class FamilyRuns {
  private runs: Run[] = [];

  constructor(private readonly section: number) {}

  update(blocks: readonly Sections[]): Buffer[] {
    const section = this.section;
    const next: Run[] = [];
    const rebuilt: { run: Run; length: number }[] = [];
    for (let start = 0; start < blocks.length; start += RUN_LENGTH) {
      const end = Math.min(start + RUN_LENGTH, blocks.length);
      const cached = this.runs[next.length];
      let current = cached !== undefined && cached.blocks.length === end - start;
      for (let index = start; current && index < end; index++) current = cached.blocks[index - start] === blocks[index];
      if (current) {
        next.push(cached);
        continue;
      }
      const run = { blocks: blocks.slice(start, end), bytes: EMPTY };
      let length = 0;
      for (const { offsets } of run.blocks) length += offsets[section + 1] - offsets[section];
      next.push(run);
      rebuilt.push({ run, length });
    }
    // The runs rebuilt in this scrape share one allocation (every run, after every host reported again): a buffer
    // per run would be two thousand allocations a scrape. Each run copies its blocks' lines straight into its part.
    let total = 0;
    for (const { length } of rebuilt) total += length;
    const bytes = total > 0 ? Buffer.allocUnsafe(total) : EMPTY;
    let at = 0;
    for (const { run, length } of rebuilt) {
      run.bytes = bytes.subarray(at, at + length);
      for (const block of run.blocks) at += block.bytes.copy(bytes, at, block.offsets[section], block.offsets[section + 1]);
    }
    this.runs = next;
    return next.map((run) => run.bytes);
  }
}
