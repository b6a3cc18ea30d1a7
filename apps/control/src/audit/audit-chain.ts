import { createHash } from 'node:crypto';

/** The hash the first event of a log points back to. */
export const GENESIS_HASH = '0'.repeat(64);

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
}

export function hashEvent(event: ChainedFields): string {
  const fields = [event.seq, event.at.getTime(), event.actor, event.action, event.subjectType, event.subject, event.before, event.after];
  return createHash('sha256').update(event.prevHash).update('\n').update(JSON.stringify(fields)).digest('hex');
}

export interface ChainBreak {
  seq: number;
  reason: string;
}

/**
 * Walks a run of stored events in seq order, one page at a time, and finds the first that does not follow from the
 * one before: a gap in seq, a prevHash that is not the previous event's hash, or a hash that does not match the event.
 */
export class ChainVerifier {
  private previous: { seq: number; hash: string } | null;
  checked = 0;
  broken: ChainBreak | null = null;

  /** `anchor`: the event the first one checked must follow (seq and hash), or null to start from the genesis. */
  constructor(anchor: { seq: number; hash: string } | null) {
    this.previous = anchor;
  }

  /** Checks the next events; returns false once the chain is broken (later events are then not worth checking). */
  feed(events: readonly (ChainedFields & { hash: string })[]): boolean {
    for (const event of events) {
      if (this.broken) return false;
      const expectedSeq = (this.previous?.seq ?? 0) + 1;
      const expectedPrev = this.previous?.hash ?? GENESIS_HASH;
      if (event.seq !== expectedSeq) {
        this.broken = { seq: event.seq, reason: `expected event ${expectedSeq} next, found ${event.seq}: events are missing` };
      } else if (event.prevHash !== expectedPrev) {
        this.broken = { seq: event.seq, reason: "its prevHash is not the previous event's hash: an event before it was altered, removed or replaced" };
      } else if (hashEvent(event) !== event.hash) {
        this.broken = { seq: event.seq, reason: 'its contents do not match its hash: the event was altered after it was written' };
      } else {
        this.checked++;
        this.previous = { seq: event.seq, hash: event.hash };
      }
    }
    return !this.broken;
  }
}
