import { ChainedEvent, ChainedFields, ChainVerifier, CHECKPOINT_ACTION, GENESIS_HASH, hashEvent } from './audit-chain';

const SECRETS: Record<string, string> = { a: 'secret-a'.repeat(6), b: 'secret-b'.repeat(6) };
const secretOf = (keyId: string) => SECRETS[keyId];

/** Events 1…length, each under the key keyOf(seq) gives (null: unkeyed, as written before the chain was keyed). */
function chain(length: number, keyOf: (seq: number) => string | null = () => 'a'): ChainedEvent[] {
  const events: ChainedEvent[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= length; seq++) {
    const keyId = keyOf(seq);
    const sealing = keyId !== null && seq > 1 && keyOf(seq - 1) === null;
    const fields: ChainedFields = {
      seq,
      at: new Date(Date.UTC(2026, 10, 1, 0, seq)),
      actor: 'token:00000000-0000-4000-8000-000000000001',
      action: sealing ? CHECKPOINT_ACTION : 'tenant.update',
      subjectType: 'tenant',
      subject: 'torfaen',
      before: JSON.stringify({ name: `v${seq - 1}` }),
      after: JSON.stringify({ name: `v${seq}` }),
      prevHash,
      keyId,
    };
    const hash = hashEvent(fields, keyId === null ? null : SECRETS[keyId]);
    events.push({ ...fields, hash });
    prevHash = hash;
  }
  return events;
}

/** What someone who can write the database but lacks the key can do: recompute the plain SHA-256 chain from `from` on. */
function rechainWithoutKey(events: ChainedEvent[], from: number): void {
  for (let index = from; index < events.length; index++) {
    events[index].prevHash = index === 0 ? GENESIS_HASH : events[index - 1].hash;
    events[index].hash = hashEvent({ ...events[index], keyId: null }, null);
  }
}

describe(ChainVerifier.name, () => {
  it('accepts an intact chain fed in pages, and says which keys signed it', () => {
    const events = chain(10, (seq) => (seq <= 6 ? 'a' : 'b'));
    const sut = new ChainVerifier(null, secretOf);
    expect(sut.feed(events.slice(0, 4))).toBe(true);
    expect(sut.feed(events.slice(4))).toBe(true);
    expect(sut.broken).toBeNull();
    expect(sut.checked).toBe(10);
    expect(sut.lastSeq).toBe(10);
    expect(sut.keys).toEqual([
      { id: 'a', events: 6, firstSeq: 1, lastSeq: 6, available: true },
      { id: 'b', events: 4, firstSeq: 7, lastSeq: 10, available: true },
    ]);
    expect(sut.unkeyedUntilSeq).toBeNull();
  });

  it.each([
    ['an altered field', (events: ChainedEvent[]) => (events[5].after = '{"name":"forged"}'), 6, /do not match its hash/],
    ['an altered actor', (events: ChainedEvent[]) => (events[3].actor = 'token:someone-else'), 4, /do not match its hash/],
    ['a removed event', (events: ChainedEvent[]) => events.splice(2, 1), 4, /expected event 3 next/],
    [
      'a forgery re-chained with plain SHA-256 under the same key id',
      (events: ChainedEvent[]) => {
        events[6].after = '{"name":"forged"}';
        for (let index = 6; index < events.length; index++) {
          events[index].prevHash = events[index - 1].hash;
          events[index].hash = hashEvent({ ...events[index], keyId: null }, null);
        }
      },
      7,
      /do not match its hash/,
    ],
    [
      'a forgery re-chained as unkeyed events',
      (events: ChainedEvent[]) => {
        events[6].after = '{"name":"forged"}';
        for (const event of events.slice(6)) event.keyId = null;
        rechainWithoutKey(events, 6);
      },
      7,
      /unkeyed, after the chain was keyed/,
    ],
  ])('names the first broken event after %s, and walks on to the end', (_case, tamper, brokenSeq, reason) => {
    const events = chain(10);
    tamper(events);
    const sut = new ChainVerifier(null, secretOf);
    expect(sut.feed(events)).toBe(false);
    expect(sut.broken).toEqual({ seq: brokenSeq, reason: expect.stringMatching(reason) });
    expect(sut.checked).toBe(events.findIndex((event) => event.seq === brokenSeq));
    expect(sut.lastSeq).toBe(events[events.length - 1].seq);
  });

  it('accepts an unkeyed start sealed by a checkpoint, and says where it ends', () => {
    const events = chain(8, (seq) => (seq <= 5 ? null : 'a'));
    const sut = new ChainVerifier(null, secretOf);
    expect(sut.feed(events)).toBe(true);
    expect(sut.unkeyedUntilSeq).toBe(5);
    expect(sut.checked).toBe(8);
  });

  it('refuses an unkeyed start that does not end with a checkpoint', () => {
    const events = chain(8, (seq) => (seq <= 5 ? null : 'a'));
    events[5].action = 'tenant.update';
    events[5].hash = hashEvent(events[5], SECRETS.a);
    events[6].prevHash = events[5].hash;
    events[6].hash = hashEvent(events[6], SECRETS.a);
    events[7].prevHash = events[6].hash;
    events[7].hash = hashEvent(events[7], SECRETS.a);
    const sut = new ChainVerifier(null, secretOf);
    expect(sut.feed(events)).toBe(false);
    expect(sut.broken).toEqual({ seq: 6, reason: expect.stringMatching(/do not end with an audit.checkpoint/) });
  });

  it('counts events under a key it lacks as unverifiable, still checking their order', () => {
    const events = chain(6, (seq) => (seq <= 3 ? 'a' : 'b'));
    const sut = new ChainVerifier(null, (keyId) => (keyId === 'b' ? SECRETS.b : undefined));
    expect(sut.feed(events)).toBe(true);
    expect(sut.unverifiable).toEqual({ events: 3, firstSeq: 1 });
    expect(sut.checked).toBe(3);
    expect(sut.keys).toEqual([expect.objectContaining({ id: 'a', available: false }), expect.objectContaining({ id: 'b', available: true })]);
  });

  it('continues from an anchor: the events kept after retention dropped the older ones', () => {
    const events = chain(10);
    const sut = new ChainVerifier({ seq: 4, hash: events[3].hash }, secretOf);
    expect(sut.feed(events.slice(4))).toBe(true);
    expect(sut.checked).toBe(6);
    const wrongAnchor = new ChainVerifier({ seq: 4, hash: GENESIS_HASH }, secretOf);
    expect(wrongAnchor.feed(events.slice(4))).toBe(false);
    expect(wrongAnchor.broken?.seq).toBe(5);
  });
});
