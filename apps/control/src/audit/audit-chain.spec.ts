import { ChainedFields, ChainVerifier, GENESIS_HASH, hashEvent } from './audit-chain';

function chain(length: number): (ChainedFields & { hash: string })[] {
  const events: (ChainedFields & { hash: string })[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= length; seq++) {
    const fields: ChainedFields = {
      seq,
      at: new Date(Date.UTC(2026, 10, 1, 0, seq)),
      actor: 'token:00000000-0000-4000-8000-000000000001',
      action: 'tenant.update',
      subjectType: 'tenant',
      subject: 'torfaen',
      before: JSON.stringify({ name: `v${seq - 1}` }),
      after: JSON.stringify({ name: `v${seq}` }),
      prevHash,
    };
    const hash = hashEvent(fields);
    events.push({ ...fields, hash });
    prevHash = hash;
  }
  return events;
}

describe(ChainVerifier.name, () => {
  it('accepts an intact chain fed in pages', () => {
    const events = chain(10);
    const sut = new ChainVerifier(null);
    expect(sut.feed(events.slice(0, 4))).toBe(true);
    expect(sut.feed(events.slice(4))).toBe(true);
    expect(sut.broken).toBeNull();
    expect(sut.checked).toBe(10);
  });

  it.each([
    ['an altered field', (events: ReturnType<typeof chain>) => (events[5].after = '{"name":"forged"}'), 6, /do not match its hash/],
    ['an altered actor', (events: ReturnType<typeof chain>) => (events[3].actor = 'token:someone-else'), 4, /do not match its hash/],
    ['a removed event', (events: ReturnType<typeof chain>) => events.splice(2, 1), 4, /expected event 3 next/],
    [
      'a rehashed forgery',
      (events: ReturnType<typeof chain>) => {
        events[6].after = '{"name":"forged"}';
        events[6].hash = hashEvent(events[6]);
      },
      8,
      /prevHash is not the previous event's hash/,
    ],
  ])('names the first broken event after %s', (_case, tamper, brokenSeq, reason) => {
    const events = chain(10);
    tamper(events);
    const sut = new ChainVerifier(null);
    expect(sut.feed(events)).toBe(false);
    expect(sut.broken).toEqual({ seq: brokenSeq, reason: expect.stringMatching(reason) });
  });

  it('continues from an anchor: the events kept after retention dropped the older ones', () => {
    const events = chain(10);
    const sut = new ChainVerifier({ seq: 4, hash: events[3].hash });
    expect(sut.feed(events.slice(4))).toBe(true);
    expect(sut.checked).toBe(6);
    const wrongAnchor = new ChainVerifier({ seq: 4, hash: GENESIS_HASH });
    expect(wrongAnchor.feed(events.slice(4))).toBe(false);
    expect(wrongAnchor.broken?.seq).toBe(5);
  });
});
