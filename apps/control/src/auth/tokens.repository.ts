import { Injectable } from '@nestjs/common';
import { dialectOf, rawQuery, TokenEntity, TokenKind, TokenRole } from '@dcm/persistence';
import { DataSource, EntityManager, In, IsNull } from 'typeorm';

/** What authentication needs of a token, read in plain SQL: it runs whenever a caller's cached principal expires. */
export interface Credential {
  id: string;
  kind: TokenKind;
  role: TokenRole | null;
  tenantId: string | null;
  secretHash: string;
  expiresAt: number | null;
  revokedAt: number | null;
}

/** The scheduler_watermarks row that counts token revocations. */
const REVOCATIONS = 'token-revocations';

@Injectable()
export class TokensRepository {
  constructor(private readonly dataSource: DataSource) {}

  async credentialBySecretHash(secretHash: string): Promise<Credential | null> {
    const [row] = await rawQuery<Record<string, unknown>>(
      this.dataSource.manager,
      'SELECT id, kind, role, tenant_id, secret_hash, expires_at, revoked_at FROM tokens WHERE secret_hash = ?',
      [secretHash],
    );
    if (!row) return null;
    const instant = (value: unknown) => (value === null ? null : Number(value));
    return {
      id: row.id as string,
      kind: row.kind as TokenKind,
      role: row.role as TokenRole | null,
      tenantId: row.tenant_id as string | null,
      secretHash: row.secret_hash as string,
      expiresAt: instant(row.expires_at),
      revokedAt: instant(row.revoked_at),
    };
  }

  findBySecretHash(secretHash: string, manager: EntityManager = this.dataSource.manager): Promise<TokenEntity | null> {
    return manager.findOneBy(TokenEntity, { secretHash });
  }

  findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<TokenEntity | null> {
    return manager.findOneBy(TokenEntity, { id });
  }

  /** A join token that is neither revoked, expired nor used up, read without a transaction; null otherwise. */
  async findUsableJoinToken(secretHash: string, now: Date): Promise<TokenEntity | null> {
    const [found] = await rawQuery<{ id: string }>(
      this.dataSource.manager,
      `SELECT id FROM tokens
        WHERE secret_hash = ? AND kind = 'join' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) AND uses_left > 0`,
      [secretHash, now.getTime()],
    );
    return found ? this.findById(found.id) : null;
  }

  /**
   * Takes one use of a live join token in a single conditional UPDATE, so that concurrent enrolments cannot spend one use
   * twice: on PostgreSQL the row lock makes a second UPDATE re-check `uses_left` after the first commits (a read then a
   * write let 8–13 of 40 parallel enrolments through a one-use token). Null when the token is unknown, revoked,
   * expired or used up.
   */
  async takeJoinTokenUse(secretHash: string, now: Date, tx: EntityManager): Promise<TokenEntity | null> {
    const result = await rawQuery<unknown>(
      tx,
      `UPDATE tokens SET uses_left = uses_left - 1, last_used_at = ?
        WHERE secret_hash = ? AND kind = 'join' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) AND uses_left > 0
        RETURNING id`,
      [now.getTime(), secretHash, now.getTime()],
    );
    // TypeORM answers an UPDATE on PostgreSQL as [rows, affected count]; SQLite's RETURNING gives the rows alone.
    const [taken] = (dialectOf(tx) === 'postgres' ? result[0] : result) as { id: string }[];
    return taken ? tx.findOneBy(TokenEntity, { id: taken.id }) : null;
  }

  /** Whether a host of this name is live (not decommissioned): the one a join token may be issued to re-enrol. */
  async liveHostExists(name: string, tx: EntityManager): Promise<boolean> {
    const rows = await rawQuery(tx, 'SELECT 1 AS found FROM hosts WHERE name = ? AND decommissioned_at IS NULL', [name]);
    return rows.length > 0;
  }

  /** Whether an admin token that is neither revoked nor expired exists. */
  async hasUnrevokedAdmin(now: Date, manager: EntityManager): Promise<boolean> {
    const rows = await rawQuery(
      manager,
      "SELECT 1 FROM tokens WHERE kind = 'api' AND role = 'admin' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) LIMIT 1",
      [now.getTime()],
    );
    return rows.length > 0;
  }

  unrevokedOfTenant(tenantId: string, manager: EntityManager): Promise<TokenEntity[]> {
    return manager.find(TokenEntity, { where: { tenantId, revokedAt: IsNull() }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** Tokens still valid though their tenant is offboarded: issued before offboarding revoked them, or edited back. */
  async unrevokedOfOffboardedTenants(manager: EntityManager): Promise<TokenEntity[]> {
    const rows = await rawQuery<{ id: string }>(
      manager,
      "SELECT t.id FROM tokens t JOIN tenants n ON n.id = t.tenant_id WHERE n.state = 'offboarded' AND t.revoked_at IS NULL",
    );
    return rows.length === 0 ? [] : manager.find(TokenEntity, { where: { id: In(rows.map((row) => row.id)) }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  list(): Promise<TokenEntity[]> {
    return this.dataSource.manager.find(TokenEntity, { order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** Counts one more revocation (or bootstrap token replacement): replicas that see the count move forget their cached tokens. */
  async countRevocation(tx: EntityManager): Promise<void> {
    await rawQuery(tx, 'INSERT INTO scheduler_watermarks (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = scheduler_watermarks.value + 1', [
      REVOCATIONS,
    ]);
  }

  async revocationCount(): Promise<number> {
    const [row] = await rawQuery<{ value: unknown }>(this.dataSource.manager, 'SELECT value FROM scheduler_watermarks WHERE name = ?', [REVOCATIONS]);
    return row ? Number(row.value) : 0;
  }

  save(token: TokenEntity, manager: EntityManager): Promise<TokenEntity> {
    return manager.save(token);
  }
}
