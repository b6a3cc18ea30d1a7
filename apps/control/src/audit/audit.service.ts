import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditEventEntity, UnitOfWork } from '@dcm/persistence';
import { Clock } from '../common/clock';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { ChainBreak, ChainVerifier } from './audit-chain';
import { AuditLog } from './audit-log';
import { AuditFilter, AuditRepository } from './audit.repository';

export interface ChainVerification {
  intact: boolean;
  checked: number;
  firstSeq: number | null;
  lastSeq: number | null;
  firstBroken: ChainBreak | null;
}

/** What an `audit.prune` event records: the last event dropped, whose hash the first kept event must point back to. */
interface PruneRecord {
  throughSeq: number;
  lastHash: string;
  olderThan: string;
}

const VERIFY_PAGE = 5_000;
const DAY_MS = 86_400_000;

@Injectable()
export class AuditService {
  private readonly logger = new Logger(AuditService.name);

  constructor(
    private readonly repository: AuditRepository,
    private readonly auditLog: AuditLog,
    private readonly unitOfWork: UnitOfWork,
    private readonly clock: Clock,
    @Inject(CONTROL_CONFIG) private readonly config: ControlConfig,
  ) {}

  find(filter: AuditFilter, limit: number): Promise<AuditEventEntity[]> {
    return this.repository.find(filter, limit);
  }

  /** Recomputes the chain from the first kept event to the newest and names the first event that breaks it. */
  async verify(): Promise<ChainVerification> {
    const first = await this.repository.first();
    if (!first) return { intact: true, checked: 0, firstSeq: null, lastSeq: null, firstBroken: null };
    const verifier = new ChainVerifier(first.seq > 1 ? await this.anchorFor(first.seq) : null);
    let lastSeq = first.seq - 1;
    for (;;) {
      const page = await this.repository.page(lastSeq, VERIFY_PAGE);
      if (page.length === 0 || !verifier.feed(page)) break;
      lastSeq = page[page.length - 1].seq;
    }
    return { intact: !verifier.broken, checked: verifier.checked, firstSeq: first.seq, lastSeq, firstBroken: verifier.broken };
  }

  /**
   * Drops events older than the retention, if one is configured. The drop is itself an event recording the last
   * dropped event's hash, so that verification can tell a pruned start of the log from a tampered one.
   */
  async applyRetention(): Promise<number> {
    const days = this.config.auditRetentionDays;
    if (days === undefined) return 0;
    const cutoff = new Date(this.clock.now().getTime() - days * DAY_MS);
    const dropped = await this.unitOfWork.run(async (tx) => {
      const last = await this.repository.lastBefore(cutoff, tx);
      if (!last) return 0;
      const first = await this.repository.first();
      const record: PruneRecord = { throughSeq: last.seq, lastHash: last.hash, olderThan: cutoff.toISOString() };
      await this.auditLog.record(tx, { actor: 'system:audit-retention', action: 'audit.prune', subjectType: 'audit', subject: 'audit-log', after: record });
      await this.repository.deleteThrough(last.seq, tx);
      return last.seq - (first?.seq ?? last.seq) + 1;
    });
    if (dropped > 0) this.logger.log(`audit retention (${days} days) dropped ${dropped} event(s) older than ${cutoff.toISOString()}`);
    return dropped;
  }

  /** The dropped event the first kept one must follow, as the latest retention record says; null if none says so. */
  private async anchorFor(firstSeq: number): Promise<{ seq: number; hash: string } | null> {
    for (const pruning of await this.repository.prunings()) {
      const record = JSON.parse(pruning.after ?? 'null') as PruneRecord | null;
      if (record?.throughSeq === firstSeq - 1) return { seq: record.throughSeq, hash: record.lastHash };
    }
    return null;
  }
}
