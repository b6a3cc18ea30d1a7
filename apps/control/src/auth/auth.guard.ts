import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { bearerToken } from '../common/bearer';
import { Problems } from '../common/problem';
import { AGENT_ROUTE, ApiRole, hasRole, Principal, PUBLIC_ROUTE, REQUIRED_ROLE, TENANT_READABLE } from '../common/principal';
import { TokensService } from './tokens.service';

/**
 * Every route needs a bearer token unless marked @Public(); the handler's @RequireRole names the weakest role allowed,
 * and a handler without one is for admins only. Tenant tokens may call only the reads marked @TenantReadable().
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokensService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;

    const request = context.switchToHttp().getRequest<FastifyRequest & { principal?: Principal }>();
    const token = bearerToken(request.headers.authorization);
    if (!token) throw Problems.unauthenticated('send Authorization: Bearer <token>');
    const principal = await this.tokens.authenticate(token);
    request.principal = principal;

    const agentRoute = this.reflector.getAllAndOverride<boolean>(AGENT_ROUTE, targets) ?? false;
    if (agentRoute !== (principal.kind === 'agent')) {
      throw Problems.forbidden(agentRoute ? 'only an agent token may call this' : 'an agent token may only post its own reports');
    }
    if (agentRoute) return true;

    if (principal.role === 'tenant') {
      if (this.reflector.getAllAndOverride<boolean>(TENANT_READABLE, targets)) return true;
      throw Problems.forbidden("a tenant token may only read its own tenant's records");
    }
    const required = this.reflector.getAllAndOverride<ApiRole>(REQUIRED_ROLE, targets) ?? 'admin';
    if (!hasRole(principal, required)) throw Problems.forbidden(`this needs the ${required} role`);
    return true;
  }
}
