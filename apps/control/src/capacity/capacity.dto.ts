import { ApiProperty } from '@nestjs/swagger';
import type { ResourceUnit } from '@dcm/domain';

export class ClassCapacityDto {
  @ApiProperty({ enum: ['count', 'bytes'] }) unit: ResourceUnit;
  @ApiProperty({ example: 3840, description: 'Sum of host capacities (hosts of every status, until decommissioned)' }) capacity: number;
  @ApiProperty({ example: 1200 }) allocated: number;
  @ApiProperty({ nullable: true, type: Number, description: 'Measured use; null until agents report it' }) used: number | null;
  @ApiProperty({ example: 2640, description: 'capacity − allocated, never below 0' }) free: number;
  @ApiProperty({ example: 2400, description: 'Free capacity on hosts that are up, accepted and not over-committed, i.e. what placement can use' })
  placeable: number;
}

export class HostCountsDto {
  @ApiProperty() up: number;
  @ApiProperty() stale: number;
  @ApiProperty() down: number;
  @ApiProperty() maintenance: number;
}

export class SiteCapacityDto {
  @ApiProperty({ example: 'blaenavon-hall-a' }) site: string;
  @ApiProperty({ type: HostCountsDto }) hosts: HostCountsDto;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/ClassCapacityDto' } }) resources: Record<string, ClassCapacityDto>;
}

export class CapacityResponseDto {
  @ApiProperty({ type: SiteCapacityDto, description: 'The whole facility' }) facility: Omit<SiteCapacityDto, 'site'>;
  @ApiProperty({ type: [SiteCapacityDto] }) sites: SiteCapacityDto[];
}

export class DaysUntilFullDto {
  @ApiProperty({ nullable: true, type: Number, example: 182.4, description: 'Days until allocations reach capacity; null when they are not growing' })
  allocated: number | null;
  @ApiProperty({ nullable: true, type: Number, example: null, description: 'Days until measured use reaches capacity; null when not growing or not measured' })
  used: number | null;
}

export class ClassForecastDto {
  @ApiProperty({ enum: ['count', 'bytes'] }) unit: ResourceUnit;
  @ApiProperty({ example: 3840, description: 'Capacity in the latest hour of history' }) capacity: number;
  @ApiProperty({ example: 1200, description: 'Allocated in the latest hour of history (hourly average)' }) allocated: number;
  @ApiProperty({ nullable: true, type: Number, description: 'Measured use in the latest hour of history (hourly average)' }) used: number | null;
  @ApiProperty({ example: 720, description: 'Hourly points the fit used' }) points: number;
  @ApiProperty({ type: DaysUntilFullDto }) daysUntilFull: DaysUntilFullDto;
}

export class SiteForecastDto {
  @ApiProperty({ example: 'blaenavon-hall-a' }) site: string;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/ClassForecastDto' } }) resources: Record<string, ClassForecastDto>;
}

export class CapacityForecastResponseDto {
  @ApiProperty({ format: 'date-time', description: 'The instant days are counted from' }) at: string;
  @ApiProperty({ example: 30, description: 'Days of history fitted (forecastWindowDays)' }) windowDays: number;
  @ApiProperty({ type: SiteForecastDto, description: 'The whole facility' }) facility: Omit<SiteForecastDto, 'site'>;
  @ApiProperty({ type: [SiteForecastDto] }) sites: SiteForecastDto[];
}

/** One value of dcm_capacity_forecast_days_until_full. */
export interface CapacityForecastGauge {
  site: string;
  resource: string;
  /** Days until allocations reach capacity; null when not growing. */
  days: number | null;
}
