import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { TokenKind, TokenRole } from '@dcm/persistence';

export interface Principal {
  tokenId: string;
  kind: TokenKind;
  role: TokenRole | null;
  tenantId: string | null;
}

/** Roles that can call the API, weakest first: each role may do everything the ones before it may. */
export const ROLE_RANKS = { viewer: 1, operator: 2, admin: 3 } as const;
export type ApiRole = keyof typeof ROLE_RANKS;

export const PUBLIC_ROUTE = 'dcm:public';
export const AGENT_ROUTE = 'dcm:agent';
export const REQUIRED_ROLE = 'dcm:role';

/** No bearer token needed (health probes, API docs). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/** Only agents call this, with their own agent token; the handler checks that it is the agent named in the path. */
export const AgentRoute = () => SetMetadata(AGENT_ROUTE, true);

/** The weakest role allowed to call the handler. Handlers without it are for admins only: deny by default. */
export const RequireRole = (role: ApiRole) => SetMetadata(REQUIRED_ROLE, role);

export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  return context.switchToHttp().getRequest<{ principal: Principal }>().principal;
});
