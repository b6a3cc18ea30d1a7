import { createHash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { bearerToken } from '../common/bearer';
import { Problems } from '../common/problem';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';

const digest = (secret: string): Buffer => createHash('sha256').update(secret).digest();

/**
 * /metrics is outside the API's bearer tokens (Prometheus holds no API token), but may be guarded by a token of its
 * own: with `metricsToken` set, a scrape must send `Authorization: Bearer <metricsToken>`. Digests of equal length are
 * compared in constant time, so that neither the token's content nor its length leaks through timing.
 */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(CONTROL_CONFIG) config: ControlConfig) {
    this.expected = config.metricsToken ? digest(config.metricsToken) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const token = bearerToken(context.switchToHttp().getRequest<FastifyRequest>().headers.authorization);
    if (!token || !timingSafeEqual(digest(token), this.expected)) {
      throw Problems.unauthenticated('send Authorization: Bearer <metrics token> (the metricsToken setting)');
    }
    return true;
  }
}
