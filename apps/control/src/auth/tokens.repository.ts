import { Injectable } from '@nestjs/common';
import { TokenEntity } from '@dcm/persistence';
import { DataSource, EntityManager } from 'typeorm';

@Injectable()
export class TokensRepository {
  constructor(private readonly dataSource: DataSource) {}

  findBySecretHash(secretHash: string, manager: EntityManager = this.dataSource.manager): Promise<TokenEntity | null> {
    return manager.findOneBy(TokenEntity, { secretHash });
  }

  findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<TokenEntity | null> {
    return manager.findOneBy(TokenEntity, { id });
  }

  /** The bootstrap admin token, revoked or not. */
  findBootstrapAdmin(manager: EntityManager): Promise<TokenEntity | null> {
    return manager.findOneBy(TokenEntity, { kind: 'api', role: 'admin', name: 'bootstrap' });
  }

  list(): Promise<TokenEntity[]> {
    return this.dataSource.manager.find(TokenEntity, { order: { createdAt: 'ASC', id: 'ASC' } });
  }

  save(token: TokenEntity, manager: EntityManager): Promise<TokenEntity> {
    return manager.save(token);
  }
}
