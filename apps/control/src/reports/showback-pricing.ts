import type { ShowbackPrices } from '../config/control-config';

const GIB = 2 ** 30;

/** What one price is per: a unit-hour of a counted class (a vCPU-hour), a GiB-hour of a byte class. */
export type PriceBasis = 'unit-hour' | 'GiB-hour';

export function priceBasisOf(unit: string): PriceBasis {
  return unit === 'bytes' ? 'GiB-hour' : 'unit-hour';
}

/** A cost is rounded to the currency's minor unit (pence for GBP, none for JPY), as a bill shows it. */
export function minorUnitDigits(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** Rounds half away from zero at `digits` decimals, on the decimal text so that 1.005 rounds to 1.01. */
function roundTo(value: number, digits: number): number {
  const shifted = Math.round(Number(`${Math.abs(value)}e${digits}`));
  return Math.sign(value) * Number(`${shifted}e-${digits}`) || 0;
}

/** The configured showback prices applied to unit-hours. */
export class ShowbackPricing {
  readonly currency: string;
  private readonly digits: number;

  constructor(private readonly prices: ShowbackPrices) {
    this.currency = prices.currency;
    this.digits = minorUnitDigits(prices.currency);
  }

  /** The classes priced, each with its price and what the price is per (which depends on the class's unit). */
  describe(unitOf: (resourceClass: string) => string): Record<string, { price: number; per: PriceBasis }> {
    return Object.fromEntries(
      Object.entries(this.prices.perUnitHour).map(([resourceClass, price]) => [resourceClass, { price, per: priceBasisOf(unitOf(resourceClass)) }]),
    );
  }

  /** The cost of `unitHours` of a class in the currency, rounded to its minor unit; null when the class has no price or nothing was measured. */
  costOf(resourceClass: string, unit: string, unitHours: number | null): number | null {
    const price = this.prices.perUnitHour[resourceClass];
    if (price === undefined || unitHours === null) return null;
    return roundTo((unit === 'bytes' ? unitHours / GIB : unitHours) * price, this.digits);
  }

  /** A sum of rounded costs, so that a total equals the sum of the rows shown above it; null when no row has a cost. */
  total(costs: (number | null)[]): number | null {
    const priced = costs.filter((cost): cost is number => cost !== null);
    return priced.length === 0
      ? null
      : roundTo(
          priced.reduce((sum, cost) => sum + cost, 0),
          this.digits,
        );
  }
}
