import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { AuditEventEntity, UnitOfWork } from '@dcm/persistence';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { Problems } from '../common/problem';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { ChainBreak, ChainVerifier, KeyUse } from './audit-chain';
import { ContinuityChecker, Discontinuity } from './audit-continuity';
import { AuditKeyring } from './audit-keyring';
import { AuditLog } from './audit-log';
import { emptyState, PRUNE_ACTION, prunedState, ReplayedState, replayEvent } from './audit-replay';
import { AuditFilter, AuditRepository } from './audit.repository';

/** The head of the chain, to keep elsewhere: verifying later against it shows whether anything up to it was cut. */
export interface AuditAnchor {
  seq: number;
  hash: string;
  at: string;
}

export interface AnchorCheck {
  seq: number;
  hash: string;
  /** matches: the event is there, unchanged; differs: it was changed; missing: it is gone; pruned: retention dropped it. */
  result: 'matches' | 'differs' | 'missing' | 'pruned';
}

export interface ChainVerification {
  /** No break, every event's hash checked, and the anchor (if given) matches. */
  intact: boolean;
  checked: number;
  firstSeq: number | null;
  lastSeq: number | null;
  firstBroken: ChainBreak | null;
  /** The last event written before the chain was keyed (a plain SHA-256 chain up to it), if the log starts so. */
  unkeyedUntilSeq: number | null;
  keys: KeyUse[];
  /** Events under a key not in the keyring: their hashes could not be checked. */
  unverifiable: { events: number; firstSeq: number } | null;
  anchor: AnchorCheck | null;
  /** Every event's before continues the last after of the same subject and aspect. */
  continuous: boolean;
  firstDiscontinuity: Discontinuity | null;
}

/** What an `audit.prune` event records: the last event dropped, whose hash the first kept event must point back to. */
interface PruneRecord {
  throughSeq: number;
  lastHash: string;
  olderThan: string;
  state?: ReplayedState;
}

const VERIFY_PAGE = 5_000;
const parseJson = (text: string | null): unknown => (text === null ? null : JSON.parse(text));
const DAY_MS = 86_400_000;

@Injectable()
export class AuditService implements OnModuleInit {
  private readonly logger = new Logger(AuditService.name);

  constructor(
    private readonly repository: AuditRepository,
    private readonly auditLog: AuditLog,
    private readonly keyring: AuditKeyring,
    private readonly unitOfWork: UnitOfWork,
    private readonly clock: Clock,
    @Inject(CONTROL_CONFIG) private readonly config: ControlConfig,
    private readonly dataSource: DataSource,
  ) {}

  /**
   * Before control serves: seals the events a replica stopped before sealing (PostgreSQL), and warns when the newest
   * event is under a key control does not hold.
   */
  async onModuleInit(): Promise<void> {
    const sealed = await this.sealPending();
    if (sealed > 0) this.logger.log(`audit log: sealed ${sealed} event(s) left pending by an earlier run`);
    const head = await this.repository.head();
    if (head?.keyId && this.keyring.secretOf(head.keyId) === undefined) {
      this.logger.warn(`audit log: its newest event is signed with key ${head.keyId}, which control does not hold; add it to DCM_AUDIT_KEYRING to verify it`);
    }
  }

  /** Seals the audit events committed but not yet chained (PostgreSQL; see AuditLog); answers how many. */
  sealPending(): Promise<number> {
    return this.auditLog.sealPending(this.dataSource);
  }

  async anchor(): Promise<AuditAnchor> {
    const head = await this.repository.head();
    if (!head) throw Problems.notFound('audit events: the log is empty');
    return { seq: head.seq, hash: head.hash, at: head.at.toISOString() };
  }

  find(filter: AuditFilter, limit: number): Promise<AuditEventEntity[]> {
    return this.repository.find(filter, limit);
  }

  /**
   * Recomputes the chain from the first kept event to the newest, page by page, and names the first event that breaks
   * it and the first whose before does not continue its subject's last after; with an anchor, also checks that the
   * event at it is still there, unchanged.
   */
  async verify(anchor: { seq: number; hash: string } | null = null): Promise<ChainVerification> {
    const first = await this.repository.first();
    const verifier = new ChainVerifier(first && first.seq > 1 ? await this.anchorFor(first.seq) : null, this.keyring);
    const continuity = new ContinuityChecker();
    let anchored: string | null = null;
    for (let afterSeq = (first?.seq ?? 1) - 1; ;) {
      const page = await this.repository.page(afterSeq, VERIFY_PAGE);
      if (page.length === 0) break;
      verifier.feed(page);
      continuity.feed(page.map((event) => ({ ...event, before: parseJson(event.before), after: parseJson(event.after) })));
      if (anchor) anchored ??= page.find((event) => event.seq === anchor.seq)?.hash ?? null;
      afterSeq = page[page.length - 1].seq;
    }
    verifier.end();
    // An anchor at the last event a prune dropped is checked against the hash the prune recorded.
    if (anchor && anchored === null && first && anchor.seq < first.seq) anchored = (await this.pruneRecordThrough(anchor.seq))?.lastHash ?? null;
    const anchorCheck: AnchorCheck | null = anchor && {
      ...anchor,
      result: anchored !== null ? (anchored === anchor.hash ? 'matches' : 'differs') : first && anchor.seq < first.seq ? 'pruned' : 'missing',
    };
    return {
      intact: !verifier.broken && !verifier.unverifiable && (anchorCheck === null || ['matches', 'pruned'].includes(anchorCheck.result)),
      checked: verifier.checked,
      firstSeq: first?.seq ?? null,
      lastSeq: verifier.lastSeq,
      firstBroken: verifier.broken,
      unkeyedUntilSeq: verifier.unkeyedUntilSeq,
      keys: verifier.keys,
      unverifiable: verifier.unverifiable,
      anchor: anchorCheck,
      continuous: !continuity.first,
      firstDiscontinuity: continuity.first,
    };
  }

  /**
   * Drops events older than the retention, if one is configured. The drop is itself an event recording the last
   * dropped event's hash, so that verification can tell a pruned start of the log from a tampered one, and the records
   * as the dropped events left them, so that replaying the kept log starts from there.
   */
  async applyRetention(): Promise<number> {
    const days = this.config.auditRetentionDays;
    if (days === undefined) return 0;
    // Cut at a UTC midnight: at most one prune a day, each carrying the records' state, however often the job runs.
    const cutoff = new Date(Math.floor((this.clock.now().getTime() - days * DAY_MS) / DAY_MS) * DAY_MS);
    const dropped = await this.unitOfWork.run(async (tx) => {
      const last = await this.repository.lastBefore(cutoff, tx);
      if (!last) return 0;
      const first = await this.repository.first(tx);
      const state = await this.stateThrough(first!, last.seq, tx);
      const record: PruneRecord = { throughSeq: last.seq, lastHash: last.hash, olderThan: cutoff.toISOString(), state };
      await this.auditLog.record(tx, { actor: 'system:audit-retention', action: PRUNE_ACTION, subjectType: 'audit', subject: 'audit-log', after: record });
      await this.repository.deleteThrough(last.seq, tx);
      return last.seq - (first?.seq ?? last.seq) + 1;
    });
    if (dropped > 0) this.logger.log(`audit retention (${days} days) dropped ${dropped} event(s) older than ${cutoff.toISOString()}`);
    return dropped;
  }

  /** The records as the events from the first kept one through `throughSeq` leave them, from the last prune's state. */
  private async stateThrough(first: AuditEventEntity, throughSeq: number, tx: EntityManager): Promise<ReplayedState> {
    let state = emptyState();
    if (first.seq > 1) {
      const pruning = (await this.repository.prunings()).find((event) => (parseJson(event.after) as PruneRecord | null)?.throughSeq === first.seq - 1);
      state = prunedState(parseJson(pruning?.after ?? null)) ?? state;
    }
    for (let afterSeq = first.seq - 1; afterSeq < throughSeq;) {
      const page = (await this.repository.page(afterSeq, VERIFY_PAGE, tx)).filter((event) => event.seq <= throughSeq);
      if (page.length === 0) break;
      for (const event of page) replayEvent(state, { ...event, before: parseJson(event.before), after: parseJson(event.after) });
      afterSeq = page[page.length - 1].seq;
    }
    return state;
  }

  /** The dropped event the first kept one must follow, as the latest retention record says; null if none says so. */
  private async anchorFor(firstSeq: number): Promise<{ seq: number; hash: string } | null> {
    const record = await this.pruneRecordThrough(firstSeq - 1);
    return record && { seq: record.throughSeq, hash: record.lastHash };
  }

  /** The latest retention record of a prune that dropped events through `seq`. */
  private async pruneRecordThrough(seq: number): Promise<PruneRecord | null> {
    for (const pruning of await this.repository.prunings()) {
      const record = parseJson(pruning.after) as PruneRecord | null;
      if (record?.throughSeq === seq) return record;
    }
    return null;
  }
}
