import { formatAmount, parseAmount, ResourceUnit } from './resources';
import { freeOf, isOvercommitted } from './usage';

export interface InventoryFigures {
  total: number;
  reserved: number;
  allocationRatio: number;
  minUnit?: number | null;
  maxUnit?: number | null;
  stepSize?: number | null;
}

export const MAX_ALLOCATION_RATIO = 1000;

/** capacity = floor((total − reserved) × allocationRatio), exact for any whole amounts up to 2^53 − 1. */
export function capacityOf(inv: InventoryFigures): number {
  const usable = inv.total - inv.reserved;
  const ratio = inv.allocationRatio;
  if (!(usable > 0 && ratio > 0 && Number.isFinite(ratio))) return 0;
  if (ratio === 1) return Math.floor(usable);
  // Whole ratios (the usual 4.0 for vcpu) need no decimal reading: the product is exact while it stays safe.
  if (Number.isInteger(ratio) && Number.isSafeInteger(usable * ratio)) return usable * ratio;
  return floorOfProduct(usable, ratio);
}

// Operators write ratios as decimals, which doubles cannot hold: 100 × 1.15 gives 114.99999999999999.
// So the ratio is read back as the decimal it was written as, and the product is floored exactly.
function floorOfProduct(usable: number, ratio: number): number {
  const denominator = decimalDenominatorOf(ratio);
  if (denominator === null || !Number.isSafeInteger(usable)) return Math.floor(usable * ratio);
  const numerator = Math.round(ratio * denominator);
  const scaled = usable * numerator;
  // % is exact on doubles, so this floor division is exact too.
  if (Number.isSafeInteger(scaled)) return (scaled - (scaled % denominator)) / denominator;
  return Number((BigInt(usable) * BigInt(numerator)) / BigInt(denominator));
}

/** The smallest power of ten that makes the ratio, read as its shortest decimal, whole; null if none is safe. */
function decimalDenominatorOf(ratio: number): number | null {
  for (let denominator = 1; denominator <= 1e15; denominator *= 10) {
    const numerator = Math.round(ratio * denominator);
    if (!Number.isSafeInteger(numerator)) return null;
    if (numerator / denominator === ratio) return denominator;
  }
  return null;
}

/** What is left to allocate on one inventory: freeOf its capacity and allocated (never below 0). */
export function inventoryFree(inv: InventoryFigures & { allocated: number }): number {
  return freeOf(capacityOf(inv), inv.allocated);
}

/** Whether more is allocated than the inventory can hold: its total fell below what was given out. */
export function inventoryOvercommitted(inv: InventoryFigures & { allocated: number }): boolean {
  return isOvercommitted(capacityOf(inv), inv.allocated);
}

/**
 * The largest total an agent may report for each measured class: beyond any machine built (a 16,384-thread host, a
 * PiB of memory), or beyond what sums exactly (storage). A report past these is not believed, whatever the wire allows.
 */
export const MAX_MEASURED_TOTALS: Readonly<Record<'vcpu' | 'memory' | 'storage', number>> = {
  vcpu: 16_384,
  memory: 2 ** 50,
  storage: Number.MAX_SAFE_INTEGER,
};

/** Why a measured total is not to be believed, or null when it is a whole amount within MAX_MEASURED_TOTALS. */
export function measuredTotalReason(resourceClass: keyof typeof MAX_MEASURED_TOTALS, total: number): string | null {
  if (!Number.isSafeInteger(total) || total < 0) return `${resourceClass} total ${total} is not a whole amount below 2^53`;
  if (total > MAX_MEASURED_TOTALS[resourceClass]) return `${resourceClass} total ${total} is beyond ${MAX_MEASURED_TOTALS[resourceClass]}`;
  return null;
}

export function validateInventory(inv: InventoryFigures): string[] {
  const amountReasons = [
    amountReason('total', inv.total),
    amountReason('reserved', inv.reserved),
    inv.minUnit == null ? null : amountReason('minUnit', inv.minUnit),
    inv.maxUnit == null ? null : amountReason('maxUnit', inv.maxUnit),
    inv.stepSize == null ? null : amountReason('stepSize', inv.stepSize),
  ].filter((reason) => reason !== null);
  // Fields are only worth comparing once each is a whole amount.
  const relationReasons = amountReasons.length === 0 ? relationReasonsOf(inv) : [];
  const ratioReason = allocationRatioReason(inv.allocationRatio);
  return [...amountReasons, ...relationReasons, ...(ratioReason === null ? [] : [ratioReason])];
}

function amountReason(field: string, value: number): string | null {
  const parsed = parseAmount(value, 'count');
  return parsed.ok ? null : `${field} ${parsed.reason}`;
}

function relationReasonsOf(inv: InventoryFigures): string[] {
  const reasons: string[] = [];
  if (inv.reserved > inv.total) reasons.push(`reserved (${inv.reserved}) must not exceed total (${inv.total})`);
  if (inv.minUnit != null && inv.maxUnit != null && inv.minUnit > inv.maxUnit) {
    reasons.push(`minUnit (${inv.minUnit}) must not exceed maxUnit (${inv.maxUnit})`);
  }
  if (inv.stepSize != null && inv.stepSize < 1) reasons.push('stepSize must be at least 1');
  return reasons;
}

function allocationRatioReason(ratio: number): string | null {
  if (!Number.isFinite(ratio)) return 'allocationRatio must be a finite number';
  if (ratio <= 0) return 'allocationRatio must be greater than 0';
  if (ratio > MAX_ALLOCATION_RATIO) return `allocationRatio must not exceed ${MAX_ALLOCATION_RATIO}`;
  return null;
}

/** Why one allocation of this amount breaks the inventory's per-allocation bounds; the unit only shapes the reason. */
export function checkUnitBounds(inv: InventoryFigures, amount: number, unit: ResourceUnit = 'count'): string | null {
  if (inv.minUnit != null && amount < inv.minUnit) {
    return `${formatAmount(amount, unit)} is below the minimum of ${formatAmount(inv.minUnit, unit)} per allocation`;
  }
  if (inv.maxUnit != null && amount > inv.maxUnit) {
    return `${formatAmount(amount, unit)} is above the maximum of ${formatAmount(inv.maxUnit, unit)} per allocation`;
  }
  if (inv.stepSize != null && amount % inv.stepSize !== 0) {
    return `${formatAmount(amount, unit)} is not a multiple of the step size ${formatAmount(inv.stepSize, unit)}`;
  }
  return null;
}
