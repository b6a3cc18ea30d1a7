import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMillis } from '../transformers';

export type TokenKind = 'api' | 'join' | 'agent';
export type TokenRole = 'admin' | 'operator' | 'viewer' | 'tenant' | 'agent';

/** Only a SHA-256 of each secret is stored; secrets are 256-bit random, so a slow hash would add nothing. */
@Entity('tokens')
export class TokenEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 8 })
  kind: TokenKind;

  @Column({ type: 'varchar', length: 16, nullable: true })
  role: TokenRole | null;

  @Column({ name: 'tenant_id', type: 'varchar', length: 36, nullable: true })
  tenantId: string | null;

  @Column({ type: 'varchar', length: 200, default: '' })
  name: string;

  @Column({ name: 'secret_hash', type: 'varchar', length: 64, unique: true })
  secretHash: string;

  @Column({ name: 'uses_left', type: 'integer', nullable: true })
  usesLeft: number | null;

  /** Join tokens: the one existing host this token may re-enrol; null for a token that enrols new hosts only. */
  @Column({ name: 'host_name', type: 'varchar', length: 63, nullable: true })
  hostName: string | null;

  /** Join tokens: whether the host it enrols is accepted (placeable) at once. */
  @Column({ type: 'boolean', default: false })
  accept: boolean;

  @Column({ name: 'expires_at', type: 'bigint', nullable: true, transformer: epochMillis })
  expiresAt: Date | null;

  @Column({ name: 'revoked_at', type: 'bigint', nullable: true, transformer: epochMillis })
  revokedAt: Date | null;

  @Column({ name: 'last_used_at', type: 'bigint', nullable: true, transformer: epochMillis })
  lastUsedAt: Date | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMillis })
  createdAt: Date;
}
