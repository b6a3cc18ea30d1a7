/** The report format version this build speaks; control refuses reports of any other version. */
export const REPORT_SCHEMA_VERSION = 1;

export const MAX_REPORTS_PER_BATCH = 500;
