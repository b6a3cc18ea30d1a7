import { isReportArray, Report, validateReportBatch } from '@dcm/protocol';
import { Problems } from '../common/problem';
import type { MetricsRecorder } from '../telemetry/process-metrics';

/** The value of a @dcm/protocol validation, or a ValidationFailed problem naming what is wrong. */
export function validated<T>(result: { ok: true; value: T } | { ok: false; errors: string[] }): T {
  if (!result.ok) throw Problems.validation(result.errors.slice(0, 20).join('; '), result.errors.slice(0, 100));
  return result.value;
}

/**
 * The reports of an ingest body (one report or an array): a refused body counts as rejected reports, as many as it
 * held, before the problem is thrown.
 */
export function reportsOf(body: unknown, metrics: MetricsRecorder): Report[] {
  const checked = validateReportBatch(body);
  if (!checked.ok) metrics.countAgentReports('rejected', Array.isArray(body) ? Math.max(1, body.length) : 1);
  const batch = validated(checked);
  return isReportArray(batch) ? batch : [batch];
}
