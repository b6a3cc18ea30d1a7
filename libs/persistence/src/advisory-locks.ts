/**
 * PostgreSQL advisory lock ids, all in one place so that no two mechanisms share one by accident (the audit chain's
 * lock and the scheduler's fence once did). Arbitrary but fixed: replicas of every version must agree on them.
 */
export const ADVISORY_LOCKS = {
  /** Held while one replica applies migrations (data-source.ts). */
  migrations: 4_242_001,
  /** Held by the replica that runs the scheduler jobs (leader-election.ts). */
  leader: 4_242_002,
  /** Shared by each transaction of a leader-only job run; taken exclusively by a new leader before it leads. */
  fence: 4_242_003,
  /** Held until commit by each transaction that appends to the audit chain (audit-log.ts). */
  auditChain: 4_242_004,
  /** Held while a replica checks or mints the bootstrap admin token, so replicas starting together agree. */
  bootstrapToken: 4_242_005,
  /** Held while a starting replica compares the settings replicas must share with the running ones' (shared-settings.ts). */
  sharedSettingsCheck: 4_242_006,
} as const;

/**
 * Two-key advisory locks (pg_locks: classid = the first key, objid = the second, objsubid = 2), apart from the one-key
 * locks above (classid 0, objsubid 1): each running replica holds one shared, for every setting replicas must share,
 * with the setting's fingerprint as the second key.
 */
export const SHARED_SETTING_LOCKS = {
  DCM_AUDIT_KEY: 4_242_007,
  DCM_TRUSTED_PROXIES: 4_242_008,
  DCM_CONSOLE_SESSION_KEY: 4_242_009,
} as const;
