import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from '@dcm/protocol';

/**
 * A bounded on-disk queue of reports waiting for control, oldest first. It is one JSON-lines file: appends are cheap
 * and survive a crash of the agent (a torn last line is skipped on load); acknowledged reports are dropped by
 * rewriting the file, which only happens after a successful send. Over `maxBytes`, the oldest reports go first.
 */
export class Spool {
  private readonly path: string;
  private entries: { report: Report; bytes: number }[] = [];
  private bytes = 0;
  /** Reports dropped because the spool was full, since the agent started. */
  dropped = 0;

  constructor(
    directory: string,
    private readonly maxBytes: number,
    private readonly onDrop: (count: number) => void = () => undefined,
  ) {
    mkdirSync(directory, { recursive: true });
    this.path = join(directory, 'reports.jsonl');
    this.load();
  }

  get size(): number {
    return this.entries.length;
  }

  get lastSeq(): number {
    return this.entries.at(-1)?.report.seq ?? 0;
  }

  append(report: Report): void {
    const line = `${JSON.stringify(report)}\n`;
    const bytes = Buffer.byteLength(line);
    appendFileSync(this.path, line);
    this.entries.push({ report, bytes });
    this.bytes += bytes;
    if (this.bytes > this.maxBytes) this.dropOldest();
  }

  /** Up to `count` reports, oldest first. */
  peek(count: number): Report[] {
    return this.entries.slice(0, count).map((entry) => entry.report);
  }

  /** Forgets every report with seq ≤ `seq` (control has stored them). */
  ack(seq: number): void {
    const keep = this.entries.findIndex((entry) => entry.report.seq > seq);
    const removed = keep === -1 ? this.entries.length : keep;
    if (removed === 0) return;
    this.entries = this.entries.slice(removed);
    this.rewrite();
  }

  private dropOldest(): void {
    let count = 0;
    while (this.bytes > this.maxBytes && this.entries.length > 1) {
      this.bytes -= this.entries.shift()!.bytes;
      count++;
    }
    if (count === 0) return;
    this.dropped += count;
    this.rewrite();
    this.onDrop(count);
  }

  private load(): void {
    if (!existsSync(this.path)) return;
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        const report = JSON.parse(line) as Report;
        this.entries.push({ report, bytes: Buffer.byteLength(line) + 1 });
      } catch {
        // a line torn by a crash while it was being written: that one report is lost, the rest are not
      }
    }
    this.entries.sort((a, b) => a.report.seq - b.report.seq);
    this.bytes = this.entries.reduce((total, entry) => total + entry.bytes, 0);
    this.rewrite();
  }

  private rewrite(): void {
    const temporary = `${this.path}.tmp`;
    writeFileSync(temporary, this.entries.map((entry) => JSON.stringify(entry.report)).join('\n') + (this.entries.length ? '\n' : ''));
    renameSync(temporary, this.path);
    this.bytes = this.entries.reduce((total, entry) => total + entry.bytes, 0);
  }
}
