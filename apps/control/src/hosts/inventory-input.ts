import { capacityOf, defaultAllocationRatio, InventoryFigures, parseAmount, ResourceUnit, validateInventory } from '@dcm/domain';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { InventoryDto } from './host.dto';

export type ParsedInventory = Required<Pick<InventoryFigures, 'total' | 'reserved' | 'allocationRatio'>> & {
  minUnit: number | null;
  maxUnit: number | null;
  stepSize: number | null;
};

/**
 * Turns one inventory as sent by a client into figures in the class's unit, checked by the domain's rules.
 * Returns the problems, each prefixed with `field`, when there are any.
 */
export function parseInventoryInput(raw: unknown, resourceClass: string, unit: ResourceUnit, field: string): ParsedInventory | string[] {
  const dto = plainToInstance(InventoryDto, raw);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return [`${field}: must be an object with total, reserved, allocationRatio…`];
  const shapeErrors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true }).flatMap((error) =>
    Object.values(error.constraints ?? {}).map((message) => `${field}.${message}`),
  );
  if (shapeErrors.length > 0) return shapeErrors;

  const errors: string[] = [];
  const amount = (name: keyof InventoryDto, value: unknown): number | null => {
    if (value === undefined || value === null) return null;
    const parsed = parseAmount(value, unit);
    if (parsed.ok) return parsed.value;
    errors.push(`${field}.${name}: ${parsed.reason}`);
    return null;
  };
  const figures: ParsedInventory = {
    total: amount('total', dto.total) ?? 0,
    reserved: amount('reserved', dto.reserved) ?? 0,
    allocationRatio: dto.allocationRatio ?? defaultAllocationRatio(resourceClass),
    minUnit: amount('minUnit', dto.minUnit),
    maxUnit: amount('maxUnit', dto.maxUnit),
    stepSize: amount('stepSize', dto.stepSize),
  };
  if (errors.length > 0) return errors;
  const invalid = validateInventory(figures).map((reason) => `${field}: ${reason}`);
  if (invalid.length > 0) return invalid;
  if (capacityOf(figures) > Number.MAX_SAFE_INTEGER) return [`${field}: capacity exceeds the largest supported amount`];
  return figures;
}
