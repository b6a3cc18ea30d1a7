import { CanActivate, ExecutionContext, HttpStatus, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { UnitOfWork } from '@dcm/persistence';
import type { FastifyRequest } from 'fastify';
import { AuditLog } from '../audit/audit-log';
import { Actor, tokenActor } from '../common/actor';
import { ApiRole, hasRole, Principal } from '../common/principal';
import { TokensService } from '../auth/tokens.service';
import { hashSecret, SESSION_TOKEN_HASH } from '../common/bearer';
import { Clock } from '../common/clock';
import { ProblemException, Problems } from '../common/problem';
import { addressKey, RateLimitCounters } from '../common/rate-limit';
import { TenantsRepository } from '../tenants/tenants.repository';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { ConsoleRequest, ConsoleUser } from './console-view';

/** Sign-in attempts a minute from one client address (an IPv6 client per /64), whatever their outcome. */
export const SIGN_IN_ATTEMPTS_PER_MINUTE = 10;

/** Who may open a console page: anyone (sign-in), a tenant token too (its own organisation), or this API role and up. */
export type ConsoleAccessLevel = 'anyone' | 'tenant' | ApiRole;
const CONSOLE_ACCESS = 'dcm:console-access';
export const ConsoleAccess = (level: ConsoleAccessLevel) => SetMetadata(CONSOLE_ACCESS, level);

/** Not signed in (or the session ended): the filter sends the browser to the sign-in page. */
export class SignInRequired extends ProblemException {
  constructor() {
    super(HttpStatus.UNAUTHORIZED, 'Unauthenticated', 'sign in to the console');
  }
}

interface SessionLike {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  delete(): void;
}

function sessionOf(request: FastifyRequest): SessionLike {
  return (request as FastifyRequest & { session: SessionLike }).session;
}

/**
 * Console sign-in with an existing dcm token: the sealed session cookie holds the token's hash (never the secret) and
 * when it signed in; every request verifies the token again, so a revoked token or an offboarded tenant ends the
 * session at once. Sign-in, sign-out and failed sign-ins are audit events.
 */
@Injectable()
export class ConsoleAuth {
  private readonly attempts = new RateLimitCounters(SIGN_IN_ATTEMPTS_PER_MINUTE);

  constructor(
    private readonly tokens: TokensService,
    private readonly tenants: TenantsRepository,
    private readonly unitOfWork: UnitOfWork,
    private readonly auditLog: AuditLog,
    private readonly clock: Clock,
    @Inject(CONTROL_CONFIG) private readonly config: ControlConfig,
  ) {}

  /** The signed-in user, or null when there is no session, it is too old, or its token no longer verifies. */
  async userOf(request: FastifyRequest): Promise<ConsoleUser | null> {
    const session = sessionOf(request);
    const tokenHash = session.get(SESSION_TOKEN_HASH);
    const since = session.get('since');
    if (typeof tokenHash !== 'string' || typeof since !== 'number') return null;
    if (this.clock.now().getTime() - since > this.config.consoleSessionHours * 3_600_000) {
      session.delete();
      return null;
    }
    try {
      return await this.userFor(await this.tokens.authenticateHash(tokenHash));
    } catch (error) {
      if (!(error instanceof ProblemException) || error.getStatus() !== 401) throw error;
      session.delete();
      return null;
    }
  }

  /**
   * Signs in with a token's secret: returns the user, or the message key of why not. Refused: over the attempts
   * allowed from this address, an unknown, revoked or expired token, and agent tokens (join tokens never verify).
   */
  async signIn(request: FastifyRequest, secret: string): Promise<ConsoleUser | 'signIn.errors.tooMany' | 'signIn.errors.refused'> {
    const address = addressKey(request.ip);
    // An attempt holds its place under the limit while the token is checked, and keeps it only if it fails: a guesser
    // gets SIGN_IN_ATTEMPTS_PER_MINUTE tries a minute, in sequence or in parallel, while the people of an office behind
    // one address sign in as often as they like.
    const attempt = this.attempts.hold(address, this.clock.now().getTime());
    if (attempt.exceeded) {
      attempt.release();
      return 'signIn.errors.tooMany';
    }
    const principal = secret === '' ? null : await this.tokens.authenticate(secret).catch((error: unknown) => refusedOr(error));
    if (!principal || principal.kind !== 'api') {
      await this.record('system:console', 'console.sign_in_failed', 'console', address, { reason: principal ? 'not an API token' : 'not a valid token' });
      return 'signIn.errors.refused';
    }
    attempt.release();
    const user = await this.userFor(principal);
    await this.record(tokenActor(principal.tokenId), 'console.sign_in', 'token', principal.tokenId, { address });
    const session = sessionOf(request);
    // A fresh CSRF secret with every sign-in, so that a token seen before signing in is worth nothing after it.
    session.set('_csrf', undefined);
    session.set(SESSION_TOKEN_HASH, hashSecret(secret));
    session.set('since', this.clock.now().getTime());
    return user;
  }

  async signOut(request: FastifyRequest, user: ConsoleUser): Promise<void> {
    await this.record(tokenActor(user.principal.tokenId), 'console.sign_out', 'token', user.principal.tokenId, {});
    sessionOf(request).delete();
  }

  private async userFor(principal: Principal): Promise<ConsoleUser> {
    const tenantSlug = principal.role === 'tenant' && principal.tenantId ? ((await this.tenants.findById(principal.tenantId))?.slug ?? null) : null;
    return { principal, tenantSlug };
  }

  private record(actor: Actor, action: string, subjectType: string, subject: string, after: Record<string, unknown>): Promise<void> {
    return this.unitOfWork.run((tx) => this.auditLog.record(tx, { actor, action, subjectType, subject, after }));
  }
}

function refusedOr(error: unknown): null {
  if (error instanceof ProblemException && error.getStatus() === 401) return null;
  throw error;
}

/**
 * Console pages are outside the API's bearer-token guard (@Public): this guard signs the request in from its session
 * and applies the API's roles. Tenant tokens reach only pages marked `tenant`; other pages answer 403 as the API does.
 */
@Injectable()
export class ConsoleAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: ConsoleAuth,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const level = this.reflector.getAllAndOverride<ConsoleAccessLevel>(CONSOLE_ACCESS, [context.getHandler(), context.getClass()]) ?? 'admin';
    const request = context.switchToHttp().getRequest<ConsoleRequest>();
    const user = await this.auth.userOf(request);
    if (user) request.consoleUser = user;
    if (level === 'anyone') return true;
    if (!user) throw new SignInRequired();
    if (user.principal.role === 'tenant') {
      if (level === 'tenant') return true;
      throw Problems.forbidden("a tenant token may only read its own organisation's pages");
    }
    const required: ApiRole = level === 'tenant' ? 'viewer' : level;
    if (!hasRole(user.principal, required)) throw Problems.forbidden(`this needs the ${required} role`);
    return true;
  }
}
