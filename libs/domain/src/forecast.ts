export const DAY_MS = 86_400_000;

/** What a class fills with: its allocations, or its measured use. */
export const FORECAST_BASES = ['allocated', 'used'] as const;
export type ForecastBasis = (typeof FORECAST_BASES)[number];

/** One observation of a growing quantity: when (epoch milliseconds) and how much. */
export interface SeriesPoint {
  at: number;
  value: number;
}

/** A fitted line value = intercept + slopePerDay × (days since `origin`). */
export interface LinearFit {
  /** Epoch milliseconds the line is measured from (the mean time of the points, for numerical stability). */
  origin: number;
  intercept: number;
  slopePerDay: number;
}

/**
 * Ordinary least squares over the points, time in days. Null when the points cannot define a line (fewer than two
 * distinct instants). Times are centred on their mean: squaring epoch milliseconds would lose every significant digit.
 */
export function fitLine(points: readonly SeriesPoint[]): LinearFit | null {
  const finite = points.filter((point) => Number.isFinite(point.at) && Number.isFinite(point.value));
  if (finite.length < 2) return null;
  const origin = finite.reduce((sum, point) => sum + point.at, 0) / finite.length;
  let sumX = 0;
  let sumY = 0;
  for (const point of finite) {
    sumX += (point.at - origin) / DAY_MS;
    sumY += point.value;
  }
  const meanX = sumX / finite.length;
  const meanY = sumY / finite.length;
  let covariance = 0;
  let variance = 0;
  for (const point of finite) {
    const dx = (point.at - origin) / DAY_MS - meanX;
    covariance += dx * (point.value - meanY);
    variance += dx * dx;
  }
  if (variance === 0) return null;
  const slopePerDay = covariance / variance;
  return { origin, intercept: meanY - slopePerDay * meanX, slopePerDay };
}

/** The fitted value at an instant. */
export function valueAt(fit: LinearFit, at: number): number {
  return fit.intercept + fit.slopePerDay * ((at - fit.origin) / DAY_MS);
}

/**
 * Days from `now` until the least-squares line through `points` reaches `capacity`: 0 when the line is already there,
 * null when it is not growing (or there is no line, or no capacity to run out of).
 */
export function daysUntilFull(points: readonly SeriesPoint[], capacity: number, now: number): number | null {
  if (!(capacity > 0)) return null;
  const fit = fitLine(points);
  if (!fit || !(fit.slopePerDay > 0)) return null;
  const days = (capacity - valueAt(fit, now)) / fit.slopePerDay;
  return Number.isFinite(days) ? Math.max(0, days) : null;
}

/**
 * When (epoch milliseconds, whole) the least-squares line through `points` reaches `capacity`: `now` when it already
 * has, null when it is not growing. The same instant daysUntilFull counts the days to, for the metric's timestamp.
 */
export function fullAt(points: readonly SeriesPoint[], capacity: number, now: number): number | null {
  const days = daysUntilFull(points, capacity, now);
  if (days === null) return null;
  const at = Math.round(now + days * DAY_MS);
  return Number.isSafeInteger(at) ? at : null;
}
