import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { TokenKind, TokenRole } from '@dcm/persistence';
import { Actor, tokenActor } from './actor';

export interface Principal {
  tokenId: string;
  kind: TokenKind;
  role: TokenRole | null;
  tenantId: string | null;
}

/** Roles that can call the API, weakest first: each role may do everything the ones before it may. */
export const ROLE_RANKS = { viewer: 1, operator: 2, admin: 3 } as const;
export type ApiRole = keyof typeof ROLE_RANKS;

/** Whether the principal's role is `required` or above it (tenant, agent and join tokens have no rank). */
export function hasRole(principal: Principal, required: ApiRole): boolean {
  const rank = principal.kind === 'api' && principal.role && principal.role in ROLE_RANKS ? ROLE_RANKS[principal.role as ApiRole] : 0;
  return rank >= ROLE_RANKS[required];
}

export const PUBLIC_ROUTE = 'dcm:public';
export const AGENT_ROUTE = 'dcm:agent';
export const REQUIRED_ROLE = 'dcm:role';
export const TENANT_READABLE = 'dcm:tenant-readable';

/** No bearer token needed (health probes, API docs). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/** Only agents call this, with their own agent token; the handler checks that it is the agent named in the path. */
export const AgentRoute = () => SetMetadata(AGENT_ROUTE, true);

/** The weakest role allowed to call the handler. Handlers without it are for admins only: deny by default. */
export const RequireRole = (role: ApiRole) => SetMetadata(REQUIRED_ROLE, role);

/**
 * Tenant tokens may call this read too: the handler shows them their own tenant's records only, and answers 404 for
 * any other tenant's, exactly as if it did not exist (see CurrentTenantScope).
 */
export const TenantReadable = () => SetMetadata(TENANT_READABLE, true);

export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  return context.switchToHttp().getRequest<{ principal: Principal }>().principal;
});

/** The audit log's name for the caller: `token:<id>`. */
export const CurrentActor = createParamDecorator((_data: unknown, context: ExecutionContext): Actor => {
  return tokenActor(context.switchToHttp().getRequest<{ principal: Principal }>().principal.tokenId);
});

/** The one tenant (its id) whose records the caller may see, or null when it may see every tenant's. */
export type TenantScope = string | null;

export function tenantScopeOf(principal: Principal): TenantScope {
  // A tenant token always carries its tenant; the empty string matches no tenant should one ever lack it.
  return principal.role === 'tenant' ? (principal.tenantId ?? '') : null;
}

export const CurrentTenantScope = createParamDecorator((_data: unknown, context: ExecutionContext): TenantScope => {
  return tenantScopeOf(context.switchToHttp().getRequest<{ principal: Principal }>().principal);
});
