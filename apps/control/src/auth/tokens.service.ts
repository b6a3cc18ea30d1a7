import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { ADVISORY_LOCKS, dialectOf, isUniqueViolation, TokenEntity, TokenRole, UnitOfWork } from '@dcm/persistence';
import { EntityManager } from 'typeorm';
import type { Actor } from '../common/actor';
import { AuditLog } from '../audit/audit-log';
import { hashSecret } from '../common/bearer';
import { Clock } from '../common/clock';
import { ProblemException, Problems } from '../common/problem';
import { ConfigurationError } from '../config/control-config';
import { TenantsRepository } from '../tenants/tenants.repository';
import { TenantsService } from '../tenants/tenants.service';
import { CreatedTokenResponseDto, CreateTokenDto, TokenResponseDto, toTokenResponse } from './token.dto';
import { Principal } from '../common/principal';
import { TokenUsage } from './token-usage';
import { TokensRepository } from './tokens.repository';

/**
 * How long a verified token is trusted without looking at the database again. Revocations do not wait for it: the
 * replica that revokes forgets at once, and the others when they see the revocation count move (checkRevocations).
 */
const CACHE_TTL_MS = 10 * 60_000;
/** The bootstrap admin token's id, the same on every replica, so that two replicas starting together cannot both create one. */
const BOOTSTRAP_TOKEN_ID = '00000000-0000-4000-8000-00000000b007';
const BOOTSTRAP_ACTOR: Actor = 'system:bootstrap';
/** Room for every agent of a 50,000-host facility and its operators (an entry is a few hundred bytes). */
const CACHE_MAX_ENTRIES = 50_000;
/**
 * How long, and for how many tokens, a bearer that failed to verify (unknown, revoked, expired, a join token) is
 * refused without asking the database again: a client repeating a bad bearer costs no query. Such a token can only become
 * good by being minted with that very secret, which a random secret never is; the bootstrap admin's requested secret is
 * forgotten here when minted (on another replica it waits out the minute).
 */
const REFUSED_TTL_MS = 60_000;
const REFUSED_MAX_ENTRIES = 10_000;
/** A join token's life: the default and the most an operator may give one (DESIGN: "expiry required, at most 30 days"). */
export const JOIN_TOKEN_MAX_LIFETIME_MS = 30 * 86_400_000;
const UNUSABLE_JOIN_TOKEN = 'the join token is not valid: unknown, revoked, expired or used up';

export function generateSecret(): string {
  return `dcm_${randomBytes(32).toString('base64url')}`;
}

@Injectable()
export class TokensService implements OnModuleInit {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();
  /** Bearers that failed to verify lately, by hash, with why (see REFUSED_TTL_MS); the one refused longest ago goes first when full. */
  private readonly refused = new Map<string, { reason: string; until: number }>();
  /** Moved by every forget(): a lookup that began before one must not cache what it read. */
  private generation = 0;
  /** The revocation count this replica last saw (see checkRevocations); null before the first look. */
  private revocationsSeen: number | null = null;

  constructor(
    private readonly repository: TokensRepository,
    private readonly tenants: TenantsRepository,
    private readonly unitOfWork: UnitOfWork,
    private readonly clock: Clock,
    private readonly auditLog: AuditLog,
    private readonly usage: TokenUsage,
    private readonly tenantsService: TenantsService,
  ) {}

  /** A tenant's tokens do not outlive it: offboarding revokes them, each revocation audited. */
  onModuleInit(): void {
    this.tenantsService.onOffboarding({
      within: async (tenant, now, actor, tx) => {
        for (const token of await this.repository.unrevokedOfTenant(tenant.id, tx)) await this.markRevoked(token, now, actor, tx);
      },
      afterCommit: () => this.forgetCached(),
    });
  }

  /**
   * Revokes, audited, every token still bound to an offboarded tenant (one offboarded before offboarding revoked
   * tokens, or a token edited back in the database); control runs this at every start. Returns how many.
   */
  async revokeTokensOfOffboardedTenants(): Promise<number> {
    const revoked = await this.unitOfWork.run(async (tx) => {
      const tokens = await this.repository.unrevokedOfOffboardedTenants(tx);
      const now = this.clock.now();
      for (const token of tokens) await this.markRevoked(token, now, 'system:offboarding', tx);
      return tokens.length;
    });
    if (revoked > 0) this.forgetCached();
    return revoked;
  }

  /**
   * Issues an API or join token; the secret is in the answer and nowhere else. Operators onboard hosts, so they may
   * issue join tokens; API tokens stay the admins'.
   */
  async issue(input: CreateTokenDto, actor: Actor, issuerRole: TokenRole | null = 'admin'): Promise<CreatedTokenResponseDto> {
    this.checkIssuable(input, issuerRole);
    const token = await this.unitOfWork.run((tx) => this.store(input, actor, tx));
    // Known on this replica from the start, so that the rate limit counts it as a real token at its first use, even
    // from an address a flood of unknown bearers has put over its limit (see RateLimitKeys).
    if (token.entity.kind === 'api') {
      const { entity } = token;
      const principal: Principal = { tokenId: entity.id, kind: entity.kind, role: entity.role, tenantId: entity.tenantId };
      this.remember(entity.secretHash, principal, entity.expiresAt?.getTime() ?? null, this.clock.now().getTime());
    }
    return token.response;
  }

  /**
   * Issues join tokens inside the caller's transaction (the console's onboarding, which creates a tenant, its quotas
   * and its hosts' join tokens in one change). Join tokens are never cached, so nothing is owed after the commit.
   */
  async issueJoinTokensWithin(inputs: CreateTokenDto[], actor: Actor, issuerRole: TokenRole | null, tx: EntityManager): Promise<CreatedTokenResponseDto[]> {
    for (const input of inputs) {
      if (input.kind !== 'join') throw Problems.validation('kind: only join tokens are issued here');
      this.checkIssuable(input, issuerRole);
    }
    const issued: CreatedTokenResponseDto[] = [];
    for (const input of inputs) issued.push((await this.store(input, actor, tx)).response);
    return issued;
  }

  private checkIssuable(input: CreateTokenDto, issuerRole: TokenRole | null): void {
    if (input.kind === 'api' && issuerRole !== 'admin') throw Problems.forbidden('issuing API tokens needs the admin role (operators issue join tokens)');
    if (input.kind === 'join' && input.role !== undefined) throw Problems.validation('role: join tokens have no role');
    if (input.kind === 'api' && input.uses !== undefined) throw Problems.validation('uses: only join tokens have a use count');
    if (input.role !== 'tenant' && input.tenant !== undefined) throw Problems.validation('tenant: only tenant-role tokens are bound to a tenant');
    if (input.kind !== 'join' && input.host !== undefined) throw Problems.validation('host: only join tokens re-enrol a host');
    if (input.kind !== 'join' && input.accept !== undefined) throw Problems.validation('accept: only join tokens enrol hosts');
    const now = this.clock.now();
    if (input.expiresAt && input.expiresAt.getTime() <= now.getTime()) throw Problems.validation('expiresAt: must be in the future');
    const latestJoinExpiry = new Date(now.getTime() + JOIN_TOKEN_MAX_LIFETIME_MS);
    if (input.kind === 'join' && input.expiresAt && input.expiresAt > latestJoinExpiry) {
      throw Problems.validation('expiresAt: a join token expires within 30 days');
    }
  }

  private async store(input: CreateTokenDto, actor: Actor, tx: EntityManager): Promise<{ entity: TokenEntity; response: CreatedTokenResponseDto }> {
    const now = this.clock.now();
    const latestJoinExpiry = new Date(now.getTime() + JOIN_TOKEN_MAX_LIFETIME_MS);
    const secret = generateSecret();
    const tenant = input.tenant ? await this.tenants.findBySlug(input.tenant, tx) : null;
    if (input.tenant && (!tenant || tenant.state === 'offboarded')) throw Problems.validation(`tenant: tenant ${input.tenant} does not exist`);
    if (input.host && !(await this.repository.liveHostExists(input.host, tx))) throw Problems.validation(`host: host ${input.host} does not exist`);
    const token = Object.assign(new TokenEntity(), {
      id: randomUUID(),
      kind: input.kind,
      role: input.kind === 'api' ? input.role! : null,
      tenantId: tenant?.id ?? null,
      name: input.name ?? '',
      secretHash: hashSecret(secret),
      usesLeft: input.kind === 'join' ? (input.uses ?? 1) : null,
      hostName: input.host ?? null,
      accept: input.accept ?? false,
      expiresAt: input.expiresAt ?? (input.kind === 'join' ? latestJoinExpiry : null),
      revokedAt: null,
      lastUsedAt: null,
      createdAt: now,
    } satisfies TokenEntity);
    await this.repository.save(token, tx);
    await this.auditLog.record(tx, {
      actor,
      action: 'token.create',
      subjectType: 'token',
      subject: token.id,
      after: toTokenResponse(token, input.tenant ?? null),
    });
    return { entity: token, response: { ...toTokenResponse(token, input.tenant ?? null), token: secret } };
  }

  async list(): Promise<TokenResponseDto[]> {
    const tokens = await this.repository.list();
    const slugs = await this.tenants.slugsByIds(tokens.flatMap((token) => (token.tenantId ? [token.tenantId] : [])));
    return tokens.map((token) => toTokenResponse(token, token.tenantId ? (slugs.get(token.tenantId) ?? null) : null));
  }

  /** Revokes a token at once on this replica; the others stop trusting it at their next checkRevocations. */
  async revoke(id: string, actor: Actor): Promise<TokenResponseDto> {
    const token = await this.unitOfWork.run(async (tx) => {
      const token = await this.repository.findById(id, tx);
      if (!token) throw Problems.notFound(`token ${id}`);
      if (!token.revokedAt) await this.markRevoked(token, this.clock.now(), actor, tx);
      return token;
    });
    this.forgetCached();
    const slugs = await this.tenants.slugsByIds(token.tenantId ? [token.tenantId] : []);
    return toTokenResponse(token, token.tenantId ? (slugs.get(token.tenantId) ?? null) : null);
  }

  /** Revokes a token as part of the caller's transaction (an agent replaced by a new enrolment). */
  async revokeWithin(id: string, now: Date, actor: Actor, tx: EntityManager): Promise<void> {
    const token = await this.repository.findById(id, tx);
    if (!token || token.revokedAt) return;
    await this.markRevoked(token, now, actor, tx);
    // Before the commit, so the caller must forget again after it (a lookup in between could cache the token).
    this.forgetCached();
  }

  /** Stores the revocation, counts it for the other replicas (checkRevocations) and audits it. */
  private async markRevoked(token: TokenEntity, now: Date, actor: Actor, tx: EntityManager): Promise<void> {
    token.revokedAt = now;
    await this.repository.save(token, tx);
    await this.repository.countRevocation(tx);
    await this.auditLog.record(tx, { actor, action: 'token.revoke', subjectType: 'token', subject: token.id, after: { revokedAt: now.toISOString() } });
  }

  /**
   * Forgets every cached token when another replica has revoked one since the last look (the scheduler's
   * token-revocations job calls this on every replica, every second).
   */
  async checkRevocations(): Promise<void> {
    const count = await this.repository.revocationCount();
    // The first look forgets too: whatever was cached before it was never checked against a count.
    if (count !== this.revocationsSeen) this.forgetCached();
    this.revocationsSeen = count;
  }

  /** Drops every cached principal, and whatever lookups in flight would have cached: revocations take effect at once. */
  forgetCached(): void {
    this.generation++;
    this.cache.clear();
  }

  /**
   * The join token of this secret if it could enrol now, read outside any transaction: an enrolment without one is
   * refused before it queues a write (on SQLite, behind the single writer). Throws Unauthenticated otherwise.
   */
  async requireUsableJoinToken(secret: string): Promise<TokenEntity> {
    const token = await this.repository.findUsableJoinToken(hashSecret(secret), this.clock.now());
    if (!token) throw Problems.unauthenticated(UNUSABLE_JOIN_TOKEN);
    return token;
  }

  /**
   * Spends one use of a join token inside the caller's transaction; throws Unauthenticated when the secret is not a
   * usable join token.
   */
  async consumeJoinToken(secret: string, tx: EntityManager): Promise<TokenEntity> {
    const token = await this.repository.takeJoinTokenUse(hashSecret(secret), this.clock.now(), tx);
    if (!token) throw Problems.unauthenticated(UNUSABLE_JOIN_TOKEN);
    return token;
  }

  /** Creates the credential an enrolled agent reports with. */
  async issueAgentToken(name: string, tx: EntityManager): Promise<{ token: TokenEntity; secret: string }> {
    const secret = generateSecret();
    const token = newToken({ id: randomUUID(), kind: 'agent', role: 'agent', name, secretHash: hashSecret(secret), createdAt: this.clock.now() });
    return { token: await this.repository.save(token, tx), secret };
  }

  /** Whether the token (known by its hash) verified recently and is still trusted, without a database look-up. */
  verifiedFromCache(secretHash: string): boolean {
    const cached = this.cache.get(secretHash);
    return cached !== undefined && cached.until > this.clock.now().getTime();
  }

  /** Resolves a bearer secret to the principal it stands for, or throws Unauthenticated. */
  authenticate(secret: string): Promise<Principal> {
    return this.authenticateHash(hashSecret(secret));
  }

  /** As authenticate, for a caller that has hashed the secret already (see hashSecret). */
  async authenticateHash(secretHash: string): Promise<Principal> {
    const now = this.clock.now().getTime();
    const cached = this.cache.get(secretHash);
    if (cached && cached.until > now) {
      this.usage.touch(cached.principal.tokenId, now);
      return cached.principal;
    }

    const refused = this.refused.get(secretHash);
    if (refused && refused.until > now) throw Problems.unauthenticated(refused.reason);

    const generation = this.generation;
    const token = await this.repository.credentialBySecretHash(secretHash);
    // The lookup is by hash of a 256-bit secret; the constant-time compare guards against any index-side shortcut.
    if (!token || !timingSafeEqual(Buffer.from(token.secretHash), Buffer.from(secretHash))) {
      throw this.refuse(secretHash, 'the bearer token is not known', now);
    }
    if (token.revokedAt !== null) throw this.refuse(secretHash, 'the bearer token has been revoked', now);
    if (token.expiresAt !== null && token.expiresAt <= now) throw this.refuse(secretHash, 'the bearer token has expired', now);
    if (token.kind === 'join') throw this.refuse(secretHash, 'a join token can only be used to enrol an agent', now);

    const principal: Principal = { tokenId: token.id, kind: token.kind, role: token.role, tenantId: token.tenantId };
    this.usage.touch(token.id, now);
    if (generation !== this.generation) return principal; // a revocation happened meanwhile: answer, but do not cache
    this.remember(secretHash, principal, token.expiresAt, now);
    return principal;
  }

  /** Caches a verified token's principal (see CACHE_TTL_MS). */
  private remember(secretHash: string, principal: Principal, expiresAt: number | null, now: number): void {
    // Every agent of a large facility keeps a token in here: when full, the entry cached longest ago makes room.
    this.cache.delete(secretHash);
    if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(secretHash, { principal, until: Math.min(now + CACHE_TTL_MS, expiresAt ?? Infinity) });
  }

  /** Remembers a bearer that failed to verify, for REFUSED_TTL_MS (see authenticateHash), and gives the problem to answer. */
  private refuse(secretHash: string, reason: string, now: number): ProblemException {
    this.refused.delete(secretHash); // re-inserted below: Map order is then least recently refused first
    if (this.refused.size >= REFUSED_MAX_ENTRIES) this.refused.delete(this.refused.keys().next().value!);
    this.refused.set(secretHash, { reason, until: now + REFUSED_TTL_MS });
    return Problems.unauthenticated(reason);
  }

  /**
   * Makes sure an admin can get in, and hands over the bootstrap secret when one is minted. Minting happens only when
   * no unrevoked admin token exists (audited: token.create by system:bootstrap); with `requested` (DCM_ADMIN_TOKEN)
   * that secret is the one minted, and a requested secret other than the current bootstrap token's replaces it
   * (audited: token.revoke, token.create). A revoked secret is never accepted again: requesting one is refused with a
   * ConfigurationError, as are requesting the secret of another live token and requesting a new one while the
   * bootstrap token is revoked and other admins remain.
   * Returns the secret when one was minted; null when nothing changed.
   */
  async ensureBootstrapAdmin(requested: string | undefined): Promise<string | null> {
    try {
      return await this.storeBootstrapAdmin(requested);
    } catch (error) {
      // Replicas starting together on one PostgreSQL database: another one minted the bootstrap token (the same id for
      // the same generation) first; this one then finds it.
      if (!isUniqueViolation(error)) throw error;
      return this.storeBootstrapAdmin(requested);
    }
  }

  private async storeBootstrapAdmin(requested: string | undefined): Promise<string | null> {
    const secret = await this.unitOfWork.run(async (tx) => {
      // Replicas starting together take turns, so that each reads what the one before it committed.
      if (dialectOf(tx) === 'postgres') await tx.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.bootstrapToken]);
      const requestedHash = requested === undefined ? null : hashSecret(requested);
      const holder = requestedHash === null ? null : await this.repository.findBySecretHash(requestedHash, tx);
      if (holder?.revokedAt) {
        throw new ConfigurationError([
          'DCM_ADMIN_TOKEN (adminToken): is the secret of a revoked token, and a revoked token is never accepted again; set a new secret, or unset it',
        ]);
      }
      const { current, nextId } = await this.bootstrapGeneration(tx);
      if (current && (requestedHash === null || current.secretHash === requestedHash)) return null;
      if (holder) {
        throw new ConfigurationError([
          `DCM_ADMIN_TOKEN (adminToken): is the secret of another token (${holder.kind} token ${holder.id}, "${holder.name}"), which a bootstrap admin token cannot share; set a secret of its own, or unset it`,
        ]);
      }
      const now = this.clock.now();
      if (current) {
        await this.markRevoked(current, now, BOOTSTRAP_ACTOR, tx); // replaced by the requested secret, minted below
      } else if (await this.repository.hasUnrevokedAdmin(now, tx)) {
        if (requestedHash === null) return null;
        throw new ConfigurationError([
          'DCM_ADMIN_TOKEN (adminToken): the bootstrap admin token was revoked and other admin tokens remain, so no new one is minted; unset it',
        ]);
      }
      const minted = requested ?? generateSecret();
      const token = newToken({ id: nextId, kind: 'api', role: 'admin', name: 'bootstrap', secretHash: hashSecret(minted), createdAt: now });
      await this.repository.save(token, tx);
      await this.auditLog.record(tx, {
        actor: BOOTSTRAP_ACTOR,
        action: 'token.create',
        subjectType: 'token',
        subject: token.id,
        after: toTokenResponse(token, null),
      });
      return minted;
    });
    if (secret !== null) {
      this.forgetCached();
      this.refused.delete(hashSecret(secret));
    }
    return secret;
  }

  /**
   * The bootstrap tokens minted so far have ids derived from their generation (0, 1, …), the same on every replica;
   * the current one is the first unrevoked one, and the next one minted takes the first id not yet used.
   */
  private async bootstrapGeneration(tx: EntityManager): Promise<{ current: TokenEntity | null; nextId: string }> {
    for (let generation = 0; ; generation++) {
      const id = bootstrapTokenId(generation);
      const token = await this.repository.findById(id, tx);
      if (!token) return { current: null, nextId: id };
      if (!token.revokedAt) return { current: token, nextId: id };
    }
  }
}

/** Generation 0 keeps the id it always had; later ones a UUID drawn from a hash of the generation. */
function bootstrapTokenId(generation: number): string {
  if (generation === 0) return BOOTSTRAP_TOKEN_ID;
  const hex = createHash('sha256').update(`dcm-bootstrap-admin-${generation}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

type TokenIdentity = Pick<TokenEntity, 'id' | 'kind' | 'role' | 'name' | 'secretHash' | 'createdAt'>;

/** A token that is live, unbound and unlimited unless `fields` say otherwise (a tenant, uses, a host, an expiry). */
function newToken(fields: TokenIdentity & Partial<TokenEntity>): TokenEntity {
  const defaults = {
    tenantId: null,
    usesLeft: null,
    hostName: null,
    accept: false,
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
  } satisfies Omit<TokenEntity, keyof TokenIdentity>;
  return Object.assign(new TokenEntity(), defaults, fields);
}
