import { Injectable } from '@nestjs/common';
import { IdempotencyRecordEntity, SqlWrite } from '@dcm/persistence';
import { DataSource, EntityManager } from 'typeorm';

@Injectable()
export class IdempotencyRepository {
  constructor(private readonly dataSource: DataSource) {}

  find(principal: string, key: string, manager: EntityManager = this.dataSource.manager): Promise<IdempotencyRecordEntity | null> {
    return manager.findOneBy(IdempotencyRecordEntity, { principal, key });
  }

  async insert(record: IdempotencyRecordEntity, manager: EntityManager): Promise<void> {
    await manager.insert(IdempotencyRecordEntity, record);
  }

  /** The insert of `record` as raw SQL, for the admission to write with its other rows (see AllocationsRepository). */
  insertWrite(record: IdempotencyRecordEntity): SqlWrite {
    return {
      sql: 'INSERT INTO idempotency_records (principal, idempotency_key, request_hash, status_code, body, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      parameters: [record.principal, record.key, record.requestHash, record.statusCode, record.body, record.createdAt.getTime()],
    };
  }
}
