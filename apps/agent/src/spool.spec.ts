import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '@dcm/protocol';
import { Spool } from './spool';

const report = (seq: number) => ({ schemaVersion: 1, seq, padding: 'x'.repeat(80) }) as unknown as Report;

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
    expect(sut.peek(3).map((r) => r.seq)).toEqual([1, 2, 3]);
    sut.ack(3);
    expect(sut.peek(10).map((r) => r.seq)).toEqual([4, 5]);
    expect(sut.size).toBe(2);
  });

  it('survives a restart, and skips a line torn by a crash', () => {
    const first = new Spool(directory, 1_000_000);
    for (let seq = 1; seq <= 3; seq++) first.append(report(seq));
    appendFileSync(join(directory, 'reports.jsonl'), '{"schemaVersion":1,"seq":4,"pad');

    const sut = new Spool(directory, 1_000_000);
    expect(sut.peek(10).map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(sut.lastSeq).toBe(3);
    sut.append(report(4));
    expect(new Spool(directory, 1_000_000).peek(10).map((r) => r.seq)).toEqual([1, 2, 3, 4]);
  });

  it('drops the oldest reports when over its size, counting them', () => {
    const lineBytes = JSON.stringify(report(1)).length + 1;
    const dropped: number[] = [];
    const sut = new Spool(directory, lineBytes * 3, (count) => dropped.push(count));
    for (let seq = 1; seq <= 5; seq++) sut.append(report(seq));
    expect(sut.peek(10).map((r) => r.seq)).toEqual([3, 4, 5]);
    expect(sut.dropped).toBe(2);
    expect(dropped).toEqual([1, 1]);
    expect(readFileSync(join(directory, 'reports.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3);
  });
});
