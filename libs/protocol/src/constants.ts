/** The report format version this build speaks; control refuses reports of any other version. */
export const REPORT_SCHEMA_VERSION = 1;

export const MAX_REPORTS_PER_BATCH = 500;

/** How far a report's seq may lie beyond the agent's last stored one: further, and one forged post would make every later report a duplicate. */
export const MAX_SEQ_JUMP = 1_000_000;

/**
 * What one host may add to control's /metrics: filesystems and interfaces a report keeps, and the longest mountpoint
 * or device name (a label value) it keeps; the rest is dropped at ingest and counted.
 */
export const HOST_SERIES_BUDGET = { filesystems: 128, interfaces: 128, labelLength: 256 } as const;
