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

/** The keys a verifier may check events under. */
export interface VerifyingKeys {
  /** The secret of a key id; undefined when the keyring lacks it. */
  secretOf(keyId: string): string | undefined;
  /** A key's place in rotation order (0 the oldest, the current key last); undefined when the keyring lacks it. */
  rankOf(keyId: string): number | undefined;
}

/** What a keyed checkpoint records of the unkeyed events it seals. */
export interface CheckpointRecord {
  unkeyedThroughSeq: number;
  unkeyedHeadHash: string;
}

/**
 * Walks a run of stored events in seq order, one page at a time, and finds the first that does not follow from the
 * one before: a gap in seq, a prevHash that is not the previous event's hash, a hash that does not match the event
 * under its key, an unkeyed event after the chain was keyed, or an event signed by an older key than one before it.
 * Unkeyed events (written before the chain was keyed) are accepted only as the start of the log, sealed by a keyed
 * audit.checkpoint that names the last of them and its hash; `end()` says when the log ends before such a checkpoint.
 * It walks on past a break, so that it can say which keys signed the log and where the log ends; events under a key
 * it does not hold are counted, not checked.
 */
export class ChainVerifier {
  private previous: { seq: number; hash: string } | null;
  private keyed = false;
  /** The unkeyed events the log starts with: first and last seq, and the last one's hash. */
  private unkeyed: { firstSeq: number; lastSeq: number; lastHash: string } | null = null;
  /** The newest key (in rotation order) that signed an event so far, and the first event it signed. */
  private newestKey: { id: string; rank: number; seq: number } | null = null;
  private readonly keyUses = new Map<string, KeyUse>();
  /** Events found in order up to the first break, each hash checked. */
  checked = 0;
  broken: ChainBreak | null = null;
  /** The last event of the unkeyed start of the chain (written before it was keyed), if it has one. */
  unkeyedUntilSeq: number | null = null;
  /** Events under a key not in the keyring: in order, but their hashes could not be checked. */
  unverifiable: { events: number; firstSeq: number } | null = null;
  lastSeq: number | null = null;

  /** `anchor`: the event the first one checked must follow (seq and hash), or null to start from the genesis. */
  constructor(
    anchor: { seq: number; hash: string } | null,
    private readonly keyring: VerifyingKeys,
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
      if (event.keyId !== null) {
        if (!this.keyed && this.unkeyed) this.checkSeal(event, fault);
        this.countKey(event.keyId, event.seq);
        const rank = this.keyring.rankOf(event.keyId);
        if (rank !== undefined && rank > (this.newestKey?.rank ?? -1)) this.newestKey = { id: event.keyId, rank, seq: event.seq };
      } else if (!this.keyed) {
        this.unkeyed = { firstSeq: this.unkeyed?.firstSeq ?? event.seq, lastSeq: event.seq, lastHash: event.hash };
        this.unkeyedUntilSeq = event.seq;
      }
      this.keyed ||= event.keyId !== null;
      this.previous = { seq: event.seq, hash: event.hash };
      this.lastSeq = event.seq;
    }
    return !this.broken;
  }

  /** After the last page: a log that ends while still unkeyed was never sealed, so it was written without the key. */
  end(): boolean {
    if (!this.keyed && this.unkeyed) this.unsealed(`no keyed ${CHECKPOINT_ACTION} follows them`);
    return !this.broken;
  }

  private faultOf(event: ChainedEvent): string | null {
    const expectedSeq = (this.previous?.seq ?? 0) + 1;
    const expectedPrev = this.previous?.hash ?? GENESIS_HASH;
    if (event.seq !== expectedSeq) return `expected event ${expectedSeq} next, found ${event.seq}: events are missing`;
    if (event.prevHash !== expectedPrev) return "its prevHash is not the previous event's hash: an event before it was altered, removed or replaced";
    if (event.keyId === null && this.keyed) return 'it is unkeyed, after the chain was keyed: it was written or rewritten without the key';
    const rank = event.keyId === null ? undefined : this.keyring.rankOf(event.keyId);
    if (rank !== undefined && this.newestKey && rank < this.newestKey.rank) {
      return `it is signed by a retired key after a newer one: ${event.keyId} after ${this.newestKey.id} (from event ${this.newestKey.seq} on)`;
    }
    if (!this.hashChecked(event)) {
      this.unverifiable ??= { events: 0, firstSeq: event.seq };
      this.unverifiable.events++;
      return null;
    }
    const secret = event.keyId === null ? null : this.keyring.secretOf(event.keyId)!;
    if (hashEvent(event, secret) !== event.hash) return 'its contents do not match its hash: the event was altered after it was written';
    return null;
  }

  /** The first keyed event after the unkeyed start must be a checkpoint, intact, naming the last unkeyed event. */
  private checkSeal(event: ChainedEvent, fault: string | null): void {
    const unkeyed = this.unkeyed!;
    if (event.action !== CHECKPOINT_ACTION) return this.unsealed(`the keyed event after them (${event.seq}) is ${event.action}, not an ${CHECKPOINT_ACTION}`);
    if (fault) return this.unsealed(`the ${CHECKPOINT_ACTION} after them (${event.seq}) is broken`);
    const record = parseCheckpoint(event.after);
    if (record?.unkeyedThroughSeq !== unkeyed.lastSeq || record.unkeyedHeadHash !== unkeyed.lastHash) {
      return this.unsealed(`the ${CHECKPOINT_ACTION} after them (${event.seq}) does not record event ${unkeyed.lastSeq} and its hash as the last one it seals`);
    }
  }

  /** Unkeyed events not sealed by a checkpoint: the break is the first of them, and none of them counts as checked. */
  private unsealed(why: string): void {
    const { firstSeq, lastSeq } = this.unkeyed!;
    const events = firstSeq === lastSeq ? `event ${firstSeq} is` : `events ${firstSeq}-${lastSeq} are`;
    this.broken = { seq: firstSeq, reason: `${events} unkeyed and ${why}: they were written or rewritten without the key` };
    this.checked = 0;
  }

  private hashChecked(event: ChainedEvent): boolean {
    return event.keyId === null || this.keyring.secretOf(event.keyId) !== undefined;
  }

  private countKey(id: string, seq: number): void {
    const use = this.keyUses.get(id) ?? { id, events: 0, firstSeq: seq, lastSeq: seq, available: this.keyring.secretOf(id) !== undefined };
    use.events++;
    use.lastSeq = seq;
    this.keyUses.set(id, use);
  }
}

function parseCheckpoint(after: string | null): Partial<CheckpointRecord> | null {
  try {
    const record: unknown = after === null ? null : JSON.parse(after);
    return typeof record === 'object' && record !== null ? (record as Partial<CheckpointRecord>) : null;
  } catch {
    return null;
  }
}
