/**
 * The domain's shared words, each defined once: entities, DTOs, the OpenAPI document, the CLI, the facility file, the
 * agent's configuration and the wire protocol all take them from here, so that they cannot drift apart.
 */

/** A tenant's slug (and a site's name): 2–63 characters of a-z, 0-9 and -, starting with a letter or digit. */
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;
/** A host's name: 1–63 characters of a-z, 0-9, ".", "_" and "-", starting with a letter or digit. */
export const HOST_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export const TENANT_STATES = ['active', 'frozen', 'offboarded'] as const;
export type TenantState = (typeof TENANT_STATES)[number];

export const ISOLATIONS = ['shared', 'dedicated'] as const;
export type Isolation = (typeof ISOLATIONS)[number];

/** A host with an agent is `up`, `stale` or `down` by its reports (see liveness.ts); an operator sets `maintenance`. */
export const HOST_STATUSES = ['up', 'stale', 'down', 'maintenance'] as const;
export type HostStatus = (typeof HOST_STATUSES)[number];
/** The statuses an operator may set; `stale` and `down` follow from an agent's silence. */
export const OPERATOR_HOST_STATUSES = ['up', 'maintenance'] as const satisfies readonly HostStatus[];
/** The states an operator may set by hand; a tenant is offboarded by deleting it. */
export const OPERATOR_TENANT_STATES = ['active', 'frozen'] as const satisfies readonly TenantState[];
