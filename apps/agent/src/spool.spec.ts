import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '@dcm/protocol';
import { Spool } from './spool';

const report = (seq: number) => ({ schemaVersion: 1, seq, padding: 'x'.repeat(80) }) as unknown as Report;
const lineBytes = (seq: number) => JSON.stringify(report(seq)).length + 1;
const seqs = (reports: Report[]) => reports.map((entry) => entry.seq);
const segmentFiles = (directory: string) => readdirSync(directory).filter((name) => name.endsWith('.jsonl'));

describe(Spool.name, () => {
  let directory: string;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'dcm-spool-'));
  });

  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('hands reports back oldest first and forgets what was acknowledged', () => {
    const sut = new Spool(directory, 1_000_000);
    for (let seq = 1; seq <= 5; seq++) sut.append(report(seq));
    expect(seqs(sut.peek(3))).toEqual([1, 2, 3]);
    expect(seqs(sut.peek(3))).toEqual([1, 2, 3]);
    sut.ack(3);
    expect(seqs(sut.peek(10))).toEqual([4, 5]);
    expect(sut.size).toBe(2);
    sut.ack(5);
    expect(sut.peek(10)).toEqual([]);
    expect(sut.size).toBe(0);
  });

  it('gives back the reports whole, as appended', () => {
    const sut = new Spool(directory, 1_000_000);
    const sent = { ...report(1), tenants: { torfaen: { storageUsedBytes: 4096 } }, text: 'naïve “quotes” ✓' } as unknown as Report;
    sut.append(sent);
    expect(sut.peek(1)).toEqual([sent]);
  });

  it('reads across segment files in order and deletes a segment once all of it was sent', () => {
    const sut = new Spool(directory, 1_000_000, { segmentBytes: lineBytes(1) * 2 });
    for (let seq = 1; seq <= 7; seq++) sut.append(report(seq));
    expect(segmentFiles(directory)).toHaveLength(4);
    expect(seqs(sut.peek(5))).toEqual([1, 2, 3, 4, 5]);
    sut.ack(3);
    expect(segmentFiles(directory)).toHaveLength(3); // 1–2 gone; 3–4 still holds 4
    expect(seqs(sut.peek(10))).toEqual([4, 5, 6, 7]);
    sut.ack(7);
    expect(segmentFiles(directory)).toHaveLength(1); // the open segment stays until it rolls over
  });

  it('hands a batch back as the JSON array control takes, as spooled, across segments', () => {
    const sut = new Spool(directory, 1_000_000, { segmentBytes: lineBytes(1) * 2 });
    for (let seq = 1; seq <= 5; seq++) sut.append(report(seq));
    sut.ack(1);
    const batch = sut.peekBatch(3);
    expect(batch.seqs).toEqual([2, 3, 4]);
    expect(JSON.parse(batch.body.toString())).toEqual([report(2), report(3), report(4)]);
    const again = sut.peekBatch(10);
    expect(again.seqs).toEqual([2, 3, 4, 5]);
    expect(JSON.parse(again.body.toString())).toEqual([report(2), report(3), report(4), report(5)]);
    sut.ack(5);
    expect(sut.peekBatch(10)).toEqual({ seqs: [], body: Buffer.from('[]') });
  });

  it('cleans a segment with a damaged line in the middle, so that batches stay valid JSON', () => {
    const first = new Spool(directory, 1_000_000);
    for (let seq = 1; seq <= 2; seq++) first.append(report(seq));
    const [segment] = segmentFiles(directory);
    appendFileSync(join(directory, segment), '{"schemaVersion":1,"se\n');
    first.append(report(3));

    const sut = new Spool(directory, 1_000_000);
    const batch = sut.peekBatch(10);
    expect(batch.seqs).toEqual([1, 2, 3]);
    expect(JSON.parse(batch.body.toString())).toEqual([report(1), report(2), report(3)]);
  });

  it('refuses a seq that is not above every seq it has seen', () => {
    const sut = new Spool(directory, 1_000_000);
    sut.append(report(5));
    sut.ack(5);
    expect(() => sut.append(report(5))).toThrow(/not above/);
    expect(() => sut.append(report(3))).toThrow(/not above/);
    expect(() => sut.append(report(6))).not.toThrow();
  });

  it('survives a restart: what was unsent is still there, what was acknowledged is not', () => {
    const first = new Spool(directory, 1_000_000, { segmentBytes: lineBytes(1) * 3 });
    for (let seq = 1; seq <= 8; seq++) first.append(report(seq));
    first.ack(4);
    // no close(): as after a SIGKILL

    const sut = new Spool(directory, 1_000_000);
    expect(seqs(sut.peek(10))).toEqual([5, 6, 7, 8]);
    expect(sut.size).toBe(4);
    expect(sut.lastSeq).toBe(8);
    sut.append(report(9));
    expect(seqs(new Spool(directory, 1_000_000).peek(10))).toEqual([5, 6, 7, 8, 9]);
  });

  it('remembers the last seq after a restart even when everything was sent', () => {
    const first = new Spool(directory, 1_000_000);
    for (let seq = 1; seq <= 3; seq++) first.append(report(seq));
    first.ack(3);
    first.close();

    const sut = new Spool(directory, 1_000_000);
    expect(sut.size).toBe(0);
    expect(sut.lastSeq).toBe(3);
  });

  it('ignores a last line torn by a crash, and appends cleanly after it', () => {
    const first = new Spool(directory, 1_000_000);
    for (let seq = 1; seq <= 3; seq++) first.append(report(seq));
    const [segment] = segmentFiles(directory);
    appendFileSync(join(directory, segment), '{"schemaVersion":1,"seq":4,"pad');

    const sut = new Spool(directory, 1_000_000);
    expect(seqs(sut.peek(10))).toEqual([1, 2, 3]);
    expect(sut.lastSeq).toBe(3);
    expect(readFileSync(join(directory, segment), 'utf8').endsWith('}\n')).toBe(true);
    sut.append(report(4));
    expect(seqs(new Spool(directory, 1_000_000).peek(10))).toEqual([1, 2, 3, 4]);
  });

  it('drops the oldest reports when over its size, with a warning and a counter', () => {
    const dropped: number[] = [];
    const sut = new Spool(directory, lineBytes(1) * 3, { segmentBytes: lineBytes(1), onDrop: (count) => dropped.push(count) });
    for (let seq = 1; seq <= 5; seq++) sut.append(report(seq));
    expect(seqs(sut.peek(10))).toEqual([3, 4, 5]);
    expect(sut.dropped).toBe(2);
    expect(dropped).toEqual([1, 1]);
    expect(sut.bytes).toBeLessThanOrEqual(lineBytes(1) * 3);
    expect(segmentFiles(directory)).toHaveLength(3);
  });

  it('does not count reports already sent as dropped', () => {
    const dropped: number[] = [];
    const sut = new Spool(directory, lineBytes(1) * 4, { segmentBytes: lineBytes(1) * 2, onDrop: (count) => dropped.push(count) });
    for (let seq = 1; seq <= 3; seq++) sut.append(report(seq));
    sut.ack(1);
    for (let seq = 4; seq <= 5; seq++) sut.append(report(seq)); // over the limit: segment 1–2 goes, 2 was unsent
    expect(seqs(sut.peek(10))).toEqual([3, 4, 5]);
    expect(sut.dropped).toBe(1);
    expect(dropped).toEqual([1]);
  });

  it('takes over the single file an earlier agent version spooled into', () => {
    writeFileSync(join(directory, 'reports.jsonl'), [1, 2, 3].map((seq) => JSON.stringify(report(seq))).join('\n') + '\n');
    const sut = new Spool(directory, 1_000_000);
    expect(seqs(sut.peek(10))).toEqual([1, 2, 3]);
    expect(existsSync(join(directory, 'reports.jsonl'))).toBe(false);
    sut.ack(3);
    expect(segmentFiles(directory)).toEqual([]);
  });

  it('keeps in memory only an index, so a long outage does not grow the agent', () => {
    const sut = new Spool(directory, 64 * 2 ** 20);
    for (let seq = 1; seq <= 2_000; seq++) sut.append(report(seq));
    const held = (sut as unknown as { segments: { seqs: number[] }[] }).segments;
    expect(held.reduce((total, segment) => total + segment.seqs.length, 0)).toBe(2_000);
    expect(JSON.stringify(held).length).toBeLessThan(2_000 * 20); // two numbers per report, not the report's ~100 bytes
    expect(seqs(sut.peek(500))).toEqual(Array.from({ length: 500 }, (_, index) => index + 1));
  });
});
