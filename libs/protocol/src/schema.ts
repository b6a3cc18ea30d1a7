import { Static, Type } from '@sinclair/typebox';
import { HOST_NAME_PATTERN, SLUG_PATTERN } from '@dcm/domain';
import { MAX_REPORTS_PER_BATCH, REPORT_SCHEMA_VERSION } from './constants';

const SLUG = SLUG_PATTERN.source;
const HOSTNAME = HOST_NAME_PATTERN.source;
/** Well-formed Unicode without control characters: no lone surrogates (they encode alike in UTF-8), no NUL, CR or LF. */
const CLEAN_TEXT = '^[^\\p{Cc}\\p{Cs}]*$';
const Text = (options: { minLength?: number; maxLength: number }) => Type.String({ ...options, pattern: CLEAN_TEXT });

/** A whole amount of bytes or a counter: never negative, never beyond what a double holds exactly. */
const Count = (description?: string) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, ...(description ? { description } : {}) });
const NonNegative = (description?: string) => Type.Number({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, ...(description ? { description } : {}) });

export const HostFactsSchema = Type.Object(
  {
    hostname: Type.String({ pattern: HOSTNAME }),
    os: Text({ maxLength: 200 }),
    kernel: Text({ maxLength: 200 }),
    cpuModel: Text({ maxLength: 200 }),
    logicalCores: Type.Integer({ minimum: 1, maximum: 100_000 }),
    memoryTotalBytes: Count(),
    storage: Type.Array(Type.Object({ mountpoint: Text({ minLength: 1, maxLength: 4096 }), sizeBytes: Count() }, { additionalProperties: false }), {
      maxItems: 64,
    }),
  },
  { additionalProperties: false },
);

export const EnrolRequestSchema = Type.Object(
  {
    joinToken: Type.String({ minLength: 20, maxLength: 200 }),
    hostname: Type.String({ pattern: HOSTNAME }),
    facts: HostFactsSchema,
  },
  { additionalProperties: false },
);

export const EnrolResponseSchema = Type.Object(
  {
    agentId: Type.String({ format: 'uuid' }),
    agentToken: Type.String(),
    hostName: Type.String(),
    reportIntervalSeconds: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);

export const TenantUseSchema = Type.Object(
  {
    storageUsedBytes: Type.Optional(Count("bytes used on the tenant's mounts")),
    memoryBytes: Type.Optional(Count("memory.current of the tenant's cgroups")),
    cpuUsageSecondsTotal: Type.Optional(NonNegative("usage_usec of the tenant's cgroups, in seconds")),
  },
  { additionalProperties: false },
);

export const ReportSchema = Type.Object(
  {
    schemaVersion: Type.Literal(REPORT_SCHEMA_VERSION),
    seq: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'per agent, strictly increasing' }),
    collectedAt: Type.String({ format: 'date-time' }),
    cpu: Type.Object(
      {
        usageRatio: Type.Number({ minimum: 0, maximum: 1 }),
        load1: NonNegative(),
        load5: NonNegative(),
        load15: NonNegative(),
        logicalCores: Type.Integer({ minimum: 1, maximum: 100_000 }),
      },
      { additionalProperties: false },
    ),
    memory: Type.Object({ totalBytes: Count(), availableBytes: Count() }, { additionalProperties: false }),
    filesystems: Type.Array(
      Type.Object(
        {
          mountpoint: Type.String({ minLength: 1, maxLength: 4096 }),
          fstype: Type.String({ maxLength: 64 }),
          sizeBytes: Count(),
          usedBytes: Count(),
          availBytes: Count(),
        },
        { additionalProperties: false },
      ),
      { maxItems: 256 },
    ),
    network: Type.Array(
      Type.Object({ device: Type.String({ minLength: 1, maxLength: 64 }), rxBytesTotal: Count(), txBytesTotal: Count() }, { additionalProperties: false }),
      { maxItems: 256 },
    ),
    inventory: Type.Object(
      { vcpu: Count('logical cores'), memoryBytes: Count('memory total'), storageBytes: Count('sum of the configured storage mounts') },
      { additionalProperties: false },
    ),
    tenants: Type.Record(Type.String({ pattern: SLUG }), TenantUseSchema, { maxProperties: 256, additionalProperties: false }),
  },
  { additionalProperties: false },
);

export const ReportBatchSchema = Type.Union([ReportSchema, Type.Array(ReportSchema, { minItems: 1, maxItems: MAX_REPORTS_PER_BATCH })]);

/** Why control refused a report on its own (the rest of its batch is stored); the agent must not send it again. */
export const REPORT_REFUSALS = ['collected-too-far-ahead', 'collected-too-far-behind', 'collected-at-invalid', 'seq-jump'] as const;
export type ReportRefusal = (typeof REPORT_REFUSALS)[number];

export const IngestResponseSchema = Type.Object(
  {
    accepted: Type.Integer({ minimum: 0 }),
    duplicates: Type.Integer({ minimum: 0 }),
    refused: Type.Array(
      Type.Object(
        { seq: Type.Integer({ minimum: 1 }), reason: Type.Union(REPORT_REFUSALS.map((reason) => Type.Literal(reason))) },
        { additionalProperties: false },
      ),
      { description: 'reports refused on their own (e.g. collected outside the time window around control clock): acknowledged, never to be sent again' },
    ),
    lastSeq: Type.Integer({ minimum: 0 }),
    reportIntervalSeconds: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);

export type HostFacts = Static<typeof HostFactsSchema>;
export type EnrolRequest = Static<typeof EnrolRequestSchema>;
export type EnrolResponse = Static<typeof EnrolResponseSchema>;
export type TenantUse = Static<typeof TenantUseSchema>;
export type Report = Static<typeof ReportSchema>;
export type ReportBatch = Static<typeof ReportBatchSchema>;
export type IngestResponse = Static<typeof IngestResponseSchema>;
