import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsNumber, IsString, Matches, Max, Min } from 'class-validator';
import { INSTANT_PATTERN } from '../common/instant';
import { OptionalNotNull } from '../common/validators';

/** A duration in minutes, hours or days: `90m`, `36h`, `7d`. */
export const WINDOW_PATTERN = /^[1-9]\d{0,5}[mhd]$/;

export type ShowbackFormat = 'json' | 'csv';

export class ShowbackQueryDto {
  @ApiProperty({ example: '2026-10-01', description: 'Start of the period (inclusive): an ISO 8601 date (midnight UTC) or date-time with a zone' })
  @IsString()
  @Matches(INSTANT_PATTERN, { message: 'from must be an ISO 8601 date or date-time with a zone, such as 2026-10-01 or 2026-10-01T00:00:00Z' })
  from: string;

  @ApiProperty({ example: '2026-11-01', description: 'End of the period (exclusive); at most 400 days after from' })
  @IsString()
  @Matches(INSTANT_PATTERN, { message: 'to must be an ISO 8601 date or date-time with a zone, such as 2026-11-01 or 2026-11-01T00:00:00Z' })
  to: string;

  @ApiPropertyOptional({ enum: ['json', 'csv'], default: 'json' })
  @OptionalNotNull()
  @IsIn(['json', 'csv'])
  format?: ShowbackFormat;
}

export class ShowbackResourceDto {
  @ApiProperty({ enum: ['count', 'bytes'], description: "The class's unit; unit-hours are this unit × hours (byte-hours for bytes)" }) unit: string;
  @ApiProperty({ example: 5952, description: 'Σ amount × hours allocated inside the period' }) allocatedUnitHours: number;
  @ApiProperty({
    nullable: true,
    type: Number,
    example: 1785.5,
    description: 'Σ measured use × hours inside the period; null for classes not measured per tenant (see measuredClasses) or without samples',
  })
  usedUnitHours: number | null;

  @ApiPropertyOptional({
    nullable: true,
    type: Number,
    example: 119.04,
    description: 'With showbackPrices configured only: allocatedUnitHours at the price (byte classes per GiB-hour); null for a class without a price',
  })
  allocatedCost?: number | null;

  @ApiPropertyOptional({
    nullable: true,
    type: Number,
    example: 35.71,
    description: 'With showbackPrices configured only: usedUnitHours at the price; null where usedUnitHours is null or the class has no price',
  })
  usedCost?: number | null;
}

export class ShowbackTotalsDto {
  @ApiProperty({ nullable: true, type: Number, example: 154.3, description: "Sum of the tenant's allocatedCost; null when none of its classes is priced" })
  allocatedCost: number | null;
  @ApiProperty({ nullable: true, type: Number, example: 35.71, description: "Sum of the tenant's usedCost (measured classes only); null when none has one" })
  usedCost: number | null;
}

export class ShowbackPriceDto {
  @ApiProperty({ example: 0.02 }) price: number;
  @ApiProperty({ enum: ['unit-hour', 'GiB-hour'], description: 'unit-hour for counted classes (a vCPU-hour), GiB-hour for byte classes' }) per: string;
}

export class ShowbackPricesDto {
  @ApiProperty({ example: 'GBP', description: 'ISO 4217; costs are rounded to its minor unit' }) currency: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/ShowbackPriceDto' },
    example: { vcpu: { price: 0.02, per: 'unit-hour' }, memory: { price: 0.005, per: 'GiB-hour' } },
  })
  classes: Record<string, ShowbackPriceDto>;
}

export class ShowbackTenantDto {
  @ApiProperty({ example: 'torfaen' }) tenant: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/ShowbackResourceDto' },
    example: { vcpu: { unit: 'count', allocatedUnitHours: 5952, usedUnitHours: null } },
  })
  resources: Record<string, ShowbackResourceDto>;

  @ApiPropertyOptional({ type: ShowbackTotalsDto, description: 'With showbackPrices configured only' })
  totals?: ShowbackTotalsDto;
}

export class ShowbackResponseDto {
  @ApiProperty({ example: '2026-10-01T00:00:00.000Z' }) from: string;
  @ApiProperty({ example: '2026-11-01T00:00:00.000Z' }) to: string;
  @ApiProperty({ example: ['memory', 'storage'], description: 'Classes whose use agents measure per tenant' }) measuredClasses: string[];
  @ApiProperty({ type: [ShowbackTenantDto], description: 'Tenants with allocations or measured use in the period, by slug' })
  tenants: ShowbackTenantDto[];

  @ApiPropertyOptional({ type: ShowbackPricesDto, description: 'The configured showbackPrices the costs were computed with; absent when none are configured' })
  prices?: ShowbackPricesDto;
}

export class IdleQueryDto {
  @ApiPropertyOptional({ example: 0.1, default: 0.1, description: 'Fraction of the allocated amount that peak measured use stayed under' })
  @OptionalNotNull()
  @Type(() => Number)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.001)
  @Max(1)
  threshold?: number;

  @ApiPropertyOptional({ example: '7d', default: '7d', description: 'How far back to look: minutes, hours or days (`90m`, `36h`, `7d`), at most 400 days' })
  @OptionalNotNull()
  @IsString()
  @Matches(WINDOW_PATTERN, { message: 'window must be a duration such as 90m, 36h or 7d' })
  window?: string;
}

export class IdleClassUseDto {
  @ApiProperty({ example: 34359738368, description: "The tenant's allocated amount on the host (active allocations older than the window)" }) allocated: number;
  @ApiProperty({ example: 1073741824, description: "The tenant's highest measured use on the host during the window" }) peakUsed: number;
  @ApiProperty({ example: 0.03125, description: 'peakUsed / allocated' }) peakRatio: number;
}

export class IdleAllocationDto {
  @ApiProperty({ example: '1b4e28ba-2fa1-11d2-883f-0016d3cca427' }) id: string;
  @ApiProperty({ example: 'torfaen' }) tenant: string;
  @ApiProperty({ example: 'blv-c01' }) host: string;
  @ApiProperty({ example: 'blaenavon-hall-a' }) site: string;
  @ApiProperty({ example: 'Revenues and benefits database' }) description: string;
  @ApiProperty({ example: '2026-09-01T09:00:00.000Z' }) createdAt: string;
  @ApiProperty({ example: { vcpu: 8, memory: 34359738368 } }) resources: Record<string, number>;
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/IdleClassUseDto' },
    description: 'The measured classes the judgement rests on',
  })
  measured: Record<string, IdleClassUseDto>;
}

export class IdleResponseDto {
  @ApiProperty({ example: '2026-11-23T12:00:00.000Z', description: 'End of the window: now' }) at: string;
  @ApiProperty({ example: '2026-11-16T12:00:00.000Z' }) windowStart: string;
  @ApiProperty({ example: '7d' }) window: string;
  @ApiProperty({ example: 0.1 }) threshold: number;
  @ApiProperty({ type: [IdleAllocationDto], description: 'Idle allocations, by tenant, host and age' }) allocations: IdleAllocationDto[];
}
