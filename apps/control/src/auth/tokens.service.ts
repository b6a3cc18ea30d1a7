import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { TokenEntity, UnitOfWork } from '@dcm/persistence';
import { Clock } from '../common/clock';
import { Problems } from '../common/problem';
import { Principal } from './principal';
import { TokensRepository } from './tokens.repository';

/** How long a verified token is trusted without looking at the database again (bounds how late a revocation bites). */
const CACHE_TTL_MS = 5_000;
const CACHE_MAX_ENTRIES = 10_000;

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function generateSecret(): string {
  return `dcm_${randomBytes(32).toString('base64url')}`;
}

@Injectable()
export class TokensService {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();

  constructor(
    private readonly repository: TokensRepository,
    private readonly unitOfWork: UnitOfWork,
    private readonly clock: Clock,
  ) {}

  /** Resolves a bearer secret to the principal it stands for, or throws Unauthenticated. */
  async authenticate(secret: string): Promise<Principal> {
    const secretHash = hashSecret(secret);
    const now = this.clock.now().getTime();
    const cached = this.cache.get(secretHash);
    if (cached && cached.until > now) return cached.principal;

    const token = await this.repository.findBySecretHash(secretHash);
    // The lookup is by hash of a 256-bit secret; the constant-time compare guards against any index-side shortcut.
    if (!token || !timingSafeEqual(Buffer.from(token.secretHash), Buffer.from(secretHash))) {
      throw Problems.unauthenticated('the bearer token is not known');
    }
    if (token.revokedAt) throw Problems.unauthenticated('the bearer token has been revoked');
    if (token.expiresAt && token.expiresAt.getTime() <= now) throw Problems.unauthenticated('the bearer token has expired');
    if (token.kind === 'join') throw Problems.unauthenticated('a join token can only be used to enrol an agent');

    const principal: Principal = { tokenId: token.id, kind: token.kind, role: token.role, tenantId: token.tenantId };
    if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.clear();
    const until = Math.min(now + CACHE_TTL_MS, token.expiresAt?.getTime() ?? Infinity);
    this.cache.set(secretHash, { principal, until });
    return principal;
  }

  /**
   * Makes sure the bootstrap admin token exists. With `requested` (DCM_ADMIN_TOKEN) that secret becomes the bootstrap
   * token; otherwise one is generated on first start. Returns the secret when it was (re)created, for the caller to
   * hand to the operator; null when the stored one still stands.
   */
  async ensureBootstrapAdmin(requested: string | undefined): Promise<string | null> {
    return this.unitOfWork.run(async (manager) => {
      const existing = await manager.findOneBy(TokenEntity, { kind: 'api', role: 'admin', name: 'bootstrap' });
      if (existing && !existing.revokedAt && (!requested || existing.secretHash === hashSecret(requested))) return null;
      const secret = requested ?? generateSecret();
      const token =
        existing ?? Object.assign(new TokenEntity(), { id: randomUUID(), kind: 'api', role: 'admin', name: 'bootstrap', createdAt: this.clock.now() });
      Object.assign(token, { secretHash: hashSecret(secret), revokedAt: null, expiresAt: null, tenantId: null, usesLeft: null, lastUsedAt: null });
      await manager.save(token);
      return secret;
    });
  }
}
