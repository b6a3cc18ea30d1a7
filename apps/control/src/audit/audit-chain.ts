import { createHash, createHmac } from 'node:crypto';

/** The hash the first event of a log points back to. */
export const GENESIS_HASH = '0'.repeat(64);

/** The action of the keyed event that seals a chain written before it was keyed: the unkeyed events end before it. */
export const CHECKPOINT_ACTION = 'audit.checkpoint';

/** What an event's hash covers: every stored field but the hash itself. */
export interface ChainedFields {
  seq: number;
  at: Date;
  actor: string;
  action: string;
  subjectType: string;
  subject: string;
  /** The stored JSON text, exactly as kept. */
  before: string | null;
  after: string | null;
  prevHash: string;
  /** The id of the HMAC's key; null for an event written before the chain was keyed. */
  keyId: string | null;
}

export type ChainedEvent = ChainedFields & { hash: string };

/** An event's hash: HMAC-SHA256 under `secret` of its fields and keyId; a plain SHA-256 for an unkeyed (older) event. */
export function hashEvent(event: ChainedFields, secret: string | null): string {
  const fields = [event.seq, event.at.getTime(), event.actor, event.action, event.subjectType, event.subject, event.before, event.after];
  if (event.keyId === null) return createHash('sha256').update(event.prevHash).update('\n').update(JSON.stringify(fields)).digest('hex');
  if (secret === null) throw new Error(`hashEvent: event ${event.seq} is keyed (${event.keyId}) but no secret was given`);
  return createHmac('sha256', secret)
    .update(event.prevHash)
    .update('\n')
    .update(JSON.stringify([...fields, event.keyId]))
    .digest('hex');
}

export interface ChainBreak {
  seq: number;
  reason: string;
}

/** How many events each key signed, and whether this control holds it (and so could check them). */
export interface KeyUse {
  id: string;
  events: number;
  firstSeq: number;
  lastSeq: number;
  available: boolean;
}

/**
 * Walks a run of stored events in seq order, one page at a time, and finds the first that does not follow from the
 * one before: a gap in seq, a prevHash that is not the previous event's hash, a hash that does not match the event
 * under its key, or an unkeyed event after the chain was keyed. It walks on past a break, so that it can say which
 * keys signed the log and where the log ends; events under a key it does not hold are counted, not checked.
 */
export class ChainVerifier {
  private previous: { seq: number; hash: string } | null;
  private keyed = false;
  private readonly keyUses = new Map<string, KeyUse>();
  /** Events found in order up to the first break, each hash checked. */
  checked = 0;
  broken: ChainBreak | null = null;
  /** The last event of the unkeyed start of the chain (written before it was keyed), if it has one. */
  unkeyedUntilSeq: number | null = null;
  /** Events under a key not in the keyring: in order, but their hashes could not be checked. */
  unverifiable: { events: number; firstSeq: number } | null = null;
  lastSeq: number | null = null;

  /**
   * `anchor`: the event the first one checked must follow (seq and hash), or null to start from the genesis.
   * `secretOf`: the secret of a key id, undefined when the keyring lacks it.
   */
  constructor(
    anchor: { seq: number; hash: string } | null,
    private readonly secretOf: (keyId: string) => string | undefined,
  ) {
    this.previous = anchor;
  }

  get keys(): KeyUse[] {
    return [...this.keyUses.values()];
  }

  /** Checks the next events; returns false once the chain is broken. */
  feed(events: readonly ChainedEvent[]): boolean {
    for (const event of events) {
      const fault = this.faultOf(event);
      if (fault && !this.broken) this.broken = { seq: event.seq, reason: fault };
      if (!fault && !this.broken && this.hashChecked(event)) this.checked++;
      if (event.keyId !== null) this.countKey(event.keyId, event.seq);
      else if (!this.keyed) this.unkeyedUntilSeq = event.seq;
      this.keyed ||= event.keyId !== null;
      this.previous = { seq: event.seq, hash: event.hash };
      this.lastSeq = event.seq;
    }
    return !this.broken;
  }

  private faultOf(event: ChainedEvent): string | null {
    const expectedSeq = (this.previous?.seq ?? 0) + 1;
    const expectedPrev = this.previous?.hash ?? GENESIS_HASH;
    if (event.seq !== expectedSeq) return `expected event ${expectedSeq} next, found ${event.seq}: events are missing`;
    if (event.prevHash !== expectedPrev) return "its prevHash is not the previous event's hash: an event before it was altered, removed or replaced";
    if (event.keyId === null && this.keyed) return 'it is unkeyed, after the chain was keyed: it was written or rewritten without the key';
    if (event.keyId !== null && !this.keyed && this.unkeyedUntilSeq !== null && event.action !== CHECKPOINT_ACTION) {
      return `the unkeyed events before it do not end with an ${CHECKPOINT_ACTION}: they were written without the key`;
    }
    if (!this.hashChecked(event)) {
      this.unverifiable ??= { events: 0, firstSeq: event.seq };
      this.unverifiable.events++;
      return null;
    }
    const secret = event.keyId === null ? null : this.secretOf(event.keyId)!;
    if (hashEvent(event, secret) !== event.hash) return 'its contents do not match its hash: the event was altered after it was written';
    return null;
  }

  private hashChecked(event: ChainedEvent): boolean {
    return event.keyId === null || this.secretOf(event.keyId) !== undefined;
  }

  private countKey(id: string, seq: number): void {
    const use = this.keyUses.get(id) ?? { id, events: 0, firstSeq: seq, lastSeq: seq, available: this.secretOf(id) !== undefined };
    use.events++;
    use.lastSeq = seq;
    this.keyUses.set(id, use);
  }
}
