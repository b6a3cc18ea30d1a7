import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { EnrolRequest, EnrolRequestSchema, Report, ReportBatch, ReportBatchSchema, ReportSchema } from './schema';

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: string[] };

// Compiled once: validation sits on control's ingest hot path. No coercion, no defaults: a report is taken as sent.
const ajv = new Ajv({ allErrors: true, coerceTypes: false, useDefaults: false, strict: true });
addFormats(ajv, ['date-time', 'uuid']);

function validator<T>(schema: object): (value: unknown) => Validated<T> {
  const validate: ValidateFunction = ajv.compile(schema);
  return (value) => (validate(value) ? { ok: true, value: value as T } : { ok: false, errors: describe(validate.errors ?? []) });
}

function describe(errors: ErrorObject[]): string[] {
  const messages = errors.map((error) => {
    const path = error.instancePath || '(body)';
    if (error.keyword === 'additionalProperties')
      return `${path}: unknown property ${JSON.stringify((error.params as { additionalProperty: string }).additionalProperty)}`;
    return `${path}: ${error.message ?? 'is invalid'}`;
  });
  return [...new Set(messages)];
}

export const validateEnrolRequest = validator<EnrolRequest>(EnrolRequestSchema);
export const validateReport = validator<Report>(ReportSchema);
export const validateReportBatch = validator<ReportBatch>(ReportBatchSchema);

export function isReportArray(batch: ReportBatch): batch is Report[] {
  return Array.isArray(batch);
}
