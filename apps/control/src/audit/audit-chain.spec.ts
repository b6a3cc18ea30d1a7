import { ChainedEvent, ChainedFields, ChainVerifier, CHECKPOINT_ACTION, GENESIS_HASH, hashEvent } from './audit-chain';
import { AuditKeyring } from './audit-keyring';

const SECRETS: Record<string, string> = { a: 'secret-a'.repeat(6), b: 'secret-b'.repeat(6) };
/** Key a retired (in the keyring), key b current. */
const keyring = new AuditKeyring({ id: 'b', secret: SECRETS.b }, [{ id: 'a', secret: SECRETS.a }]);

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
      after: JSON.stringify(sealing ? { unkeyedThroughSeq: seq - 1, unkeyedHeadHash: prevHash, keyId } : { name: `v${seq}` }),
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
    const sut = new ChainVerifier(null, keyring);
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
    const sut = new ChainVerifier(null, keyring);
    expect(sut.feed(events)).toBe(false);
    expect(sut.broken).toEqual({ seq: brokenSeq, reason: expect.stringMatching(reason) });
    expect(sut.checked).toBe(events.findIndex((event) => event.seq === brokenSeq));
    expect(sut.lastSeq).toBe(events[events.length - 1].seq);
  });

  it('accepts an unkeyed start sealed by a checkpoint, and says where it ends', () => {
    const events = chain(8, (seq) => (seq <= 5 ? null : 'a'));
    const sut = new ChainVerifier(null, keyring);
    expect(sut.feed(events)).toBe(true);
    expect(sut.end()).toBe(true);
    expect(sut.unkeyedUntilSeq).toBe(5);
    expect(sut.checked).toBe(8);
  });

  /** Re-signs events[from…] under key `keyId` after `edit`, as someone holding that key could. */
  function resign(events: ChainedEvent[], from: number, keyId: string, edit: (event: ChainedEvent) => void = () => undefined): void {
    for (let index = from; index < events.length; index++) {
      edit(events[index]);
      events[index].keyId = keyId;
      events[index].prevHash = index === 0 ? GENESIS_HASH : events[index - 1].hash;
      events[index].hash = hashEvent(events[index], SECRETS[keyId]);
    }
  }

  it.each([
    [
      'a keyed event that is not a checkpoint',
      (event: ChainedEvent) => (event.action = 'tenant.update'),
      /events 1-5 are unkeyed and the keyed event after them \(6\) is tenant.update/,
    ],
    [
      'a checkpoint naming another last event',
      (event: ChainedEvent) => (event.after = JSON.stringify({ ...JSON.parse(event.after!), unkeyedThroughSeq: 4 })),
      /events 1-5 are unkeyed and the audit.checkpoint after them \(6\) does not record event 5/,
    ],
    [
      'a checkpoint naming another hash',
      (event: ChainedEvent) => (event.after = JSON.stringify({ ...JSON.parse(event.after!), unkeyedHeadHash: GENESIS_HASH })),
      /does not record event 5 and its hash/,
    ],
  ])('refuses an unkeyed start followed by %s, naming its first event', (_case, edit, reason) => {
    const events = chain(8, (seq) => (seq <= 5 ? null : 'a'));
    resign(events, 5, 'a', (event) => event.seq === 6 && edit(event));
    const sut = new ChainVerifier(null, keyring);
    expect(sut.feed(events)).toBe(false);
    expect(sut.broken).toEqual({ seq: 1, reason: expect.stringMatching(reason) });
    expect(sut.checked).toBe(0);
  });

  it('refuses a log that is unkeyed to its end, however consistent its plain SHA-256 chain', () => {
    const events = chain(10, () => null);
    const sut = new ChainVerifier(null, keyring);
    expect(sut.feed(events)).toBe(true);
    expect(sut.end()).toBe(false);
    expect(sut.broken).toEqual({ seq: 1, reason: expect.stringMatching(/events 1-10 are unkeyed and no keyed audit.checkpoint follows them/) });
    expect(sut.checked).toBe(0);
    expect(sut.unkeyedUntilSeq).toBe(10);

    const kept = new ChainVerifier({ seq: 9, hash: events[8].hash }, keyring);
    kept.feed(events.slice(9));
    expect(kept.end()).toBe(false);
    expect(kept.broken).toEqual({ seq: 10, reason: expect.stringMatching(/^event 10 is unkeyed/) });
  });

  it('refuses an event signed by a retired key after one signed by a newer key', () => {
    const events = chain(10, (seq) => (seq <= 4 ? 'a' : 'b'));
    resign(events, 7, 'a', (event) => (event.after = '{"name":"forged"}'));
    const sut = new ChainVerifier(null, keyring);
    expect(sut.feed(events)).toBe(false);
    expect(sut.broken).toEqual({ seq: 8, reason: 'it is signed by a retired key after a newer one: a after b (from event 5 on)' });
    expect(sut.checked).toBe(7);

    // A whole log re-signed under the retired key keeps the order: only an anchor taken after the rotation shows it.
    const resigned = chain(10, (seq) => (seq <= 4 ? 'a' : 'b'));
    resign(resigned, 0, 'a');
    expect(new ChainVerifier(null, keyring).feed(resigned)).toBe(true);
  });

  it('counts events under a key it lacks as unverifiable, still checking their order', () => {
    const events = chain(6, (seq) => (seq <= 3 ? 'a' : 'b'));
    const sut = new ChainVerifier(null, new AuditKeyring({ id: 'b', secret: SECRETS.b }));
    expect(sut.feed(events)).toBe(true);
    expect(sut.unverifiable).toEqual({ events: 3, firstSeq: 1 });
    expect(sut.checked).toBe(3);
    expect(sut.keys).toEqual([expect.objectContaining({ id: 'a', available: false }), expect.objectContaining({ id: 'b', available: true })]);
  });

  it('continues from an anchor: the events kept after retention dropped the older ones', () => {
    const events = chain(10);
    const sut = new ChainVerifier({ seq: 4, hash: events[3].hash }, keyring);
    expect(sut.feed(events.slice(4))).toBe(true);
    expect(sut.checked).toBe(6);
    const wrongAnchor = new ChainVerifier({ seq: 4, hash: GENESIS_HASH }, keyring);
    expect(wrongAnchor.feed(events.slice(4))).toBe(false);
    expect(wrongAnchor.broken?.seq).toBe(5);
  });
});
