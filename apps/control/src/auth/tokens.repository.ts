import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { TokenEntity } from '@dcm/persistence';
import { IsNull, Repository } from 'typeorm';

@Injectable()
export class TokensRepository {
  constructor(@InjectRepository(TokenEntity) private readonly tokens: Repository<TokenEntity>) {}

  findBySecretHash(secretHash: string): Promise<TokenEntity | null> {
    return this.tokens.findOneBy({ secretHash });
  }

  findBootstrapAdmin(): Promise<TokenEntity | null> {
    return this.tokens.findOneBy({ kind: 'api', role: 'admin', name: 'bootstrap', revokedAt: IsNull() });
  }

  save(token: TokenEntity): Promise<TokenEntity> {
    return this.tokens.save(token);
  }
}
