import { Injectable } from '@nestjs/common';
import { AuditEventEntity } from '@dcm/persistence';
import { PRUNE_ACTION } from './audit-replay';
import { Between, DataSource, EntityManager, FindOptionsWhere, LessThan, LessThanOrEqual, MoreThan, MoreThanOrEqual } from 'typeorm';

export interface AuditFilter {
  subject?: string;
  subjectType?: string;
  actor?: string;
  action?: string;
  from?: Date;
  to?: Date;
  /** Only events before this seq (paging backwards from the newest). */
  beforeSeq?: number;
}

@Injectable()
export class AuditRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Newest first. */
  find(filter: AuditFilter, limit: number): Promise<AuditEventEntity[]> {
    const where: FindOptionsWhere<AuditEventEntity> = {};
    if (filter.subject !== undefined) where.subject = filter.subject;
    if (filter.subjectType !== undefined) where.subjectType = filter.subjectType;
    if (filter.actor !== undefined) where.actor = filter.actor;
    if (filter.action !== undefined) where.action = filter.action;
    if (filter.from && filter.to) where.at = Between(filter.from, new Date(filter.to.getTime() - 1));
    else if (filter.from) where.at = MoreThanOrEqual(filter.from);
    else if (filter.to) where.at = LessThan(filter.to);
    if (filter.beforeSeq !== undefined) where.seq = LessThan(filter.beforeSeq);
    return this.dataSource.manager.find(AuditEventEntity, { where, order: { seq: 'DESC' }, take: limit });
  }

  /** Events in chain order from `afterSeq` on, one page at a time (verification walks the whole log this way). */
  page(afterSeq: number, size: number, manager: EntityManager = this.dataSource.manager): Promise<AuditEventEntity[]> {
    return manager.find(AuditEventEntity, { where: { seq: MoreThan(afterSeq) }, order: { seq: 'ASC' }, take: size });
  }

  first(manager: EntityManager = this.dataSource.manager): Promise<AuditEventEntity | null> {
    return manager.findOne(AuditEventEntity, { where: {}, order: { seq: 'ASC' } });
  }

  head(): Promise<AuditEventEntity | null> {
    return this.dataSource.manager.findOne(AuditEventEntity, { where: {}, order: { seq: 'DESC' } });
  }

  /** The retention records that say which events were dropped on purpose, newest first. */
  prunings(): Promise<AuditEventEntity[]> {
    return this.dataSource.manager.find(AuditEventEntity, { where: { action: PRUNE_ACTION }, order: { seq: 'DESC' } });
  }

  /** The newest event older than `cutoff`, if any: retention drops it and everything before it. */
  lastBefore(cutoff: Date, manager: EntityManager): Promise<AuditEventEntity | null> {
    return manager.findOne(AuditEventEntity, { where: { at: LessThan(cutoff) }, order: { seq: 'DESC' } });
  }

  async deleteThrough(seq: number, manager: EntityManager): Promise<void> {
    await manager.delete(AuditEventEntity, { seq: LessThanOrEqual(seq) });
  }
}
