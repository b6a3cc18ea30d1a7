import { Injectable } from '@nestjs/common';
import { IdempotencyRecordEntity } from '@dcm/persistence';
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
}
