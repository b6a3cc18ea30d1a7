import { closeSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from '@dcm/protocol';
import { writeAtomically } from './data-files';

const MIB = 2 ** 20;
const SEGMENT_NAME = /^(\d{16})\.jsonl$/;
/** The single file an earlier agent spooled into; taken over as a segment on start. */
const LEGACY_FILE = 'reports.jsonl';
const ACKED_FILE = 'acked';
/**
 * Above any seq an agent can count to (one a report: 2^40 lasts 34,000 years at one a second), far enough below 2^53
 * that counting on never leaves the safe integers. A seq on disk beyond it was taken from an answer by an older agent.
 */
export const MAX_COUNTED_SEQ = 2 ** 40;

export function isCountedSeq(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= MAX_COUNTED_SEQ;
}

/** One append-only file of JSON lines. Only the index (seq and end offset per line) is held in memory. */
interface Segment {
  path: string;
  seqs: number[];
  /** End offset (after the newline) of each line in `seqs`. */
  ends: number[];
  bytes: number;
}

/** Reports read back for sending: their seqs, oldest first, and the JSON array of them as spooled (UTF-8). */
export interface SpooledBatch {
  seqs: number[];
  body: Buffer;
}

export interface SpoolOptions {
  /** Rolls to a new segment file beyond this size; whole segments are what acknowledgement and overflow remove. */
  segmentBytes?: number;
  /** Called with the number of unsent reports dropped because the spool was full. */
  onDrop?: (count: number) => void;
}

/**
 * A bounded on-disk queue of the reports waiting for control, oldest first. Reports are appended as JSON lines to
 * segment files named by their first seq; a write that returned survives a crash of the agent (it is in the kernel),
 * and a line torn by a crash mid-write is cut off on load. Memory holds only two numbers per report, so a long outage
 * cannot grow the agent: reports are read back from disk when sent. Acknowledged seqs are remembered in `acked`;
 * segments are deleted once wholly acknowledged, and beyond `maxBytes` the oldest segment goes, counted in `dropped`.
 */
export class Spool {
  private readonly segments: Segment[] = [];
  private readonly segmentBytes: number;
  private readonly onDrop: (count: number) => void;
  private fd: number | null = null;
  private batchBuffer = Buffer.alloc(0);
  private acked = 0;
  private highestSeq = 0;
  private totalBytes = 0;
  /** Unsent reports dropped because the spool was full, since start. */
  dropped = 0;

  constructor(
    private readonly directory: string,
    private readonly maxBytes: number,
    options: SpoolOptions = {},
  ) {
    this.segmentBytes = Math.max(1, options.segmentBytes ?? Math.min(MIB, Math.floor(maxBytes / 8)));
    this.onDrop = options.onDrop ?? (() => undefined);
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    this.load();
  }

  /** Reports waiting to be sent. */
  get size(): number {
    let waiting = 0;
    for (const segment of this.segments) waiting += segment.seqs.length - this.firstUnacked(segment);
    return waiting;
  }

  /** Bytes the spool's segment files take on disk. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** The highest seq the spool has seen, appended or acknowledged: the agent never numbers a report at or below it. */
  get lastSeq(): number {
    return Math.max(this.acked, this.highestSeq);
  }

  append(report: Report): void {
    if (report.seq <= this.lastSeq) throw new Error(`seq ${report.seq} is not above the spool's last seq ${this.lastSeq}`);
    const line = Buffer.from(`${JSON.stringify(report)}\n`);
    let segment = this.segments.at(-1);
    if (!segment || this.fd === null || segment.bytes + line.length > this.segmentBytes) segment = this.startSegment(report.seq);
    this.writeLine(segment, line);
    this.highestSeq = report.seq;
    segment.bytes += line.length;
    segment.seqs.push(report.seq);
    segment.ends.push(segment.bytes);
    this.totalBytes += line.length;
    this.enforceLimit();
  }

  /**
   * Up to `count` unsent reports, oldest first, as the JSON array control takes: the lines are sent as they were
   * written, never parsed or turned into strings again, into one buffer the spool reuses, so that replaying a long
   * outage costs no memory beyond one batch. The body is valid until the next call.
   */
  peekBatch(count: number): SpooledBatch {
    const seqs: number[] = [];
    const ranges: { path: string; start: number; end: number }[] = [];
    for (const segment of this.segments) {
      if (seqs.length >= count) break;
      const first = this.firstUnacked(segment);
      const last = Math.min(segment.seqs.length, first + count - seqs.length) - 1;
      if (last < first) continue;
      ranges.push({ path: segment.path, start: first === 0 ? 0 : segment.ends[first - 1], end: segment.ends[last] });
      for (let index = first; index <= last; index++) seqs.push(segment.seqs[index]);
    }
    if (ranges.length === 0) return { seqs, body: Buffer.from('[]') };
    // Lines end in newlines: the first byte becomes "[", each newline a ",", the last one "]".
    const size = 1 + ranges.reduce((total, range) => total + range.end - range.start, 0);
    if (this.batchBuffer.length < size) this.batchBuffer = Buffer.allocUnsafe(Math.max(size, 2 * this.batchBuffer.length));
    const body = this.batchBuffer.subarray(0, size);
    body[0] = 0x5b; // [
    let offset = 1;
    for (const range of ranges) offset += readRange(range.path, range.start, range.end, body, offset);
    if (offset !== body.length) throw new Error(`a spool segment is shorter than the spool wrote it (${ranges.map((range) => range.path).join(', ')})`);
    for (let index = body.indexOf(0x0a, 1); index !== -1; index = body.indexOf(0x0a, index + 1)) body[index] = 0x2c; // ,
    body[body.length - 1] = 0x5d; // ]
    return { seqs, body };
  }

  /** Up to `count` unsent reports, oldest first, read back from disk. */
  peek(count: number): Report[] {
    return JSON.parse(this.peekBatch(count).body.toString('utf8')) as Report[];
  }

  /** Forgets every report with seq ≤ `seq`: control has stored them. */
  ack(seq: number): void {
    if (seq <= this.acked) return;
    this.acked = seq;
    writeAtomically(join(this.directory, ACKED_FILE), String(seq));
    // The open segment stays until it rolls over, even when all of it was sent: no file churn at every report.
    while (this.segments.length > (this.fd === null ? 0 : 1) && this.segments[0].seqs.at(-1)! <= seq) this.removeOldest();
  }

  /** Puts what was appended on stable storage and closes the open segment (at shutdown). */
  close(): void {
    if (this.fd === null) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = null;
  }

  /** Writes one whole line, or nothing: a short write (a full disk) is undone, so the index and the file agree. */
  private writeLine(segment: Segment, line: Buffer): void {
    let written = 0;
    try {
      written = writeSync(this.fd!, line);
    } finally {
      if (written !== line.length) ftruncateSync(this.fd!, segment.bytes);
    }
    if (written !== line.length) throw new Error(`could not write a whole report to ${segment.path} (${written} of ${line.length} bytes)`);
  }

  private firstUnacked(segment: Segment): number {
    const seqs = segment.seqs;
    if (seqs.length === 0 || seqs[0] > this.acked) return 0;
    let low = 0;
    let high = seqs.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (seqs[middle] <= this.acked) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private startSegment(firstSeq: number): Segment {
    this.close();
    const segment: Segment = { path: join(this.directory, `${String(firstSeq).padStart(16, '0')}.jsonl`), seqs: [], ends: [], bytes: 0 };
    this.fd = openSync(segment.path, 'a', 0o600);
    this.segments.push(segment);
    return segment;
  }

  private enforceLimit(): void {
    let count = 0;
    while (this.totalBytes > this.maxBytes && this.segments.length > 1) {
      count += this.segments[0].seqs.length - this.firstUnacked(this.segments[0]);
      this.removeOldest();
    }
    if (count === 0) return;
    this.dropped += count;
    this.onDrop(count);
  }

  private removeOldest(): void {
    const segment = this.segments.shift()!;
    if (this.segments.length === 0) this.close();
    unlinkSync(segment.path);
    this.totalBytes -= segment.bytes;
  }

  private load(): void {
    this.acked = readAcked(join(this.directory, ACKED_FILE));
    const names = readdirSync(this.directory).filter((name) => SEGMENT_NAME.test(name) || name === LEGACY_FILE);
    const loaded = names.map((name) => scanSegment(join(this.directory, name))).filter((segment) => segment !== null);
    loaded.sort((a, b) => a.seqs[0] - b.seqs[0]);
    let lastSeq = 0;
    for (const segment of loaded) {
      // A segment whose reports were all sent, or one out of order (never written by this spool): nothing to keep.
      if (segment.seqs.at(-1)! <= this.acked || segment.seqs[0] <= lastSeq) {
        unlinkSync(segment.path);
        continue;
      }
      lastSeq = segment.seqs.at(-1)!;
      this.highestSeq = lastSeq;
      if (!SEGMENT_NAME.test(segment.path.slice(this.directory.length + 1))) {
        const renamed = join(this.directory, `${String(segment.seqs[0]).padStart(16, '0')}.jsonl`);
        renameSync(segment.path, renamed);
        segment.path = renamed;
      }
      this.segments.push(segment);
      this.totalBytes += segment.bytes;
    }
    // The first append opens a fresh segment (fd is null): files on disk are only ever read from here on.
  }
}

/**
 * Indexes one segment file and leaves in it only whole reports in seq order, so that any byte range of lines is a
 * run of reports: cuts off a line a crash tore, rewrites a file with anything else amiss. Null (and deleted) when empty.
 */
function scanSegment(path: string): Segment | null {
  const text = readFileSync(path);
  const kept: Buffer[] = [];
  const segment: Segment = { path, seqs: [], ends: [], bytes: 0 };
  let start = 0;
  let skipped = false;
  for (let newline = text.indexOf(10); newline !== -1; start = newline + 1, newline = text.indexOf(10, start)) {
    const seq = seqOfLine(text, start, newline);
    if (seq === null || !isCountedSeq(seq) || (segment.seqs.length > 0 && seq <= segment.seqs.at(-1)!)) {
      skipped = true;
      continue;
    }
    kept.push(text.subarray(start, newline + 1));
    segment.bytes += newline + 1 - start;
    segment.seqs.push(seq);
    segment.ends.push(segment.bytes);
  }
  if (segment.seqs.length === 0) {
    unlinkSync(path);
    return null;
  }
  if (skipped) {
    writeAtomically(path, Buffer.concat(kept));
  } else if (start < text.length) {
    // The agent died while writing this line: that report is lost, the ones before it are not.
    const fd = openSync(path, 'r+');
    ftruncateSync(fd, start);
    closeSync(fd);
  }
  return segment;
}

/** How every spooled line starts (the collector builds reports in this key order). */
const LINE_START = /^\{"schemaVersion":\d+,"seq":(\d+),/;

/**
 * The seq of one spooled line, read from its start rather than by parsing the whole line: loading a full spool then
 * costs no garbage. A line ended by a newline was written whole (one write per line); others are parsed to be sure.
 */
function seqOfLine(text: Buffer, start: number, end: number): number | null {
  if (text[end - 1] === 0x7d /* } */) {
    const match = LINE_START.exec(text.toString('latin1', start, Math.min(end, start + 48)));
    if (match) return Number(match[1]);
  }
  return parseLine(text.toString('utf8', start, end))?.seq ?? null;
}

function parseLine(line: string): Report | null {
  if (!line) return null;
  try {
    const report = JSON.parse(line) as Report;
    return Number.isSafeInteger(report?.seq) ? report : null;
  } catch {
    return null;
  }
}

/** Reads bytes [start, end) of a file into `target` at `offset`; says how many it read. */
function readRange(path: string, start: number, end: number, target: Buffer, offset: number): number {
  const fd = openSync(path, 'r');
  try {
    let read = 0;
    while (read < end - start) {
      const bytes = readSync(fd, target, offset + read, end - start - read, start + read);
      if (bytes === 0) break;
      read += bytes;
    }
    return read;
  } finally {
    closeSync(fd);
  }
}

function readAcked(path: string): number {
  try {
    const value = Number(readFileSync(path, 'utf8').trim());
    return isCountedSeq(value) ? value : 0;
  } catch {
    return 0;
  }
}
