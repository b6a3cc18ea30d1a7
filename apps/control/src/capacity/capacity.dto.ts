import { ApiProperty, OmitType } from '@nestjs/swagger';
import type { ForecastBasis, ResourceUnit } from '@dcm/domain';

export class ClassCapacityDto {
  @ApiProperty({ enum: ['count', 'bytes'] }) unit: ResourceUnit;
  @ApiProperty({ example: 3840, description: 'Sum of host capacities (accepted hosts of every status, until decommissioned)' }) capacity: number;
  @ApiProperty({ example: 1200 }) allocated: number;
  @ApiProperty({
    nullable: true,
    type: Number,
    description:
      "What the hosts' current reports measure: vCPU busy (usage ratio × logical cores), memory total − available, bytes used on the storage mounts; null while no host measures the class",
  })
  used: number | null;
  @ApiProperty({ example: 2640, description: 'capacity − allocated, never below 0' }) free: number;
  @ApiProperty({ example: false, description: 'Allocated exceeds capacity (free is then 0)' }) overcommitted: boolean;
  @ApiProperty({ example: 2400, description: 'Free capacity on hosts that are up, accepted and not over-committed, i.e. what placement can use' })
  placeable: number;
}

export class HostCountsDto {
  @ApiProperty() up: number;
  @ApiProperty() stale: number;
  @ApiProperty() down: number;
  @ApiProperty() maintenance: number;
  @ApiProperty({ description: 'Of these hosts, those no operator has accepted yet: their capacity, allocations and use are left out of every figure' })
  unaccepted: number;
}

export class SiteCapacityDto {
  @ApiProperty({ example: 'blaenavon-hall-a' }) site: string;
  @ApiProperty({ type: HostCountsDto }) hosts: HostCountsDto;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/ClassCapacityDto' } }) resources: Record<string, ClassCapacityDto>;
}

/** The whole facility's figures: a site's, without the site. */
export class FacilityCapacityDto extends OmitType(SiteCapacityDto, ['site'] as const) {}

export class CapacityResponseDto {
  @ApiProperty({ type: FacilityCapacityDto, description: 'The whole facility' }) facility: FacilityCapacityDto;
  @ApiProperty({ type: [SiteCapacityDto] }) sites: SiteCapacityDto[];
}

export class DaysUntilFullDto {
  @ApiProperty({ nullable: true, type: Number, example: 182.4, description: 'Days until allocations reach capacity; null when they are not growing' })
  allocated: number | null;
  @ApiProperty({ nullable: true, type: Number, example: null, description: 'Days until measured use reaches capacity; null when not growing or not measured' })
  used: number | null;
}

export class FullAtDto {
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    example: '2027-05-24T09:36:00.000Z',
    description: 'When allocations reach capacity (now when they already have); null when they are not growing',
  })
  allocated: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    example: null,
    description: 'When measured use reaches capacity; null when not growing or not measured',
  })
  used: string | null;
}

export class ClassForecastDto {
  @ApiProperty({ enum: ['count', 'bytes'] }) unit: ResourceUnit;
  @ApiProperty({ example: 3840, description: 'Capacity in the latest hour of history' }) capacity: number;
  @ApiProperty({ example: 1200, description: 'Allocated in the latest hour of history (hourly average)' }) allocated: number;
  @ApiProperty({ nullable: true, type: Number, description: 'Measured use in the latest hour of history (hourly average)' }) used: number | null;
  @ApiProperty({ example: 720, description: 'Hourly points the fit used' }) points: number;
  @ApiProperty({ type: DaysUntilFullDto, description: 'Days from `at` to fullAt, to a tenth' }) daysUntilFull: DaysUntilFullDto;
  @ApiProperty({ type: FullAtDto }) fullAt: FullAtDto;
}

export class SiteForecastDto {
  @ApiProperty({ example: 'blaenavon-hall-a' }) site: string;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/ClassForecastDto' } }) resources: Record<string, ClassForecastDto>;
}

/** The whole facility's forecast: a site's, without the site. */
export class FacilityForecastDto extends OmitType(SiteForecastDto, ['site'] as const) {}

export class CapacityForecastResponseDto {
  @ApiProperty({ format: 'date-time', description: 'The instant days are counted from' }) at: string;
  @ApiProperty({ example: 30, description: 'Days of history fitted (forecastWindowDays)' }) windowDays: number;
  @ApiProperty({ type: FacilityForecastDto, description: 'The whole facility' }) facility: FacilityForecastDto;
  @ApiProperty({ type: [SiteForecastDto] }) sites: SiteForecastDto[];
}

/** One value of dcm_capacity_forecast_full_timestamp_seconds. */
export interface CapacityForecastGauge {
  site: string;
  resource: string;
  basis: ForecastBasis;
  /** When the class is forecast to be full on that basis, in Unix seconds; null when it is not filling. */
  timestampSeconds: number | null;
}
