import { ApiProperty } from '@nestjs/swagger';
import type { ResourceUnit } from '@dcm/domain';

export class ClassCapacityDto {
  @ApiProperty({ enum: ['count', 'bytes'] }) unit: ResourceUnit;
  @ApiProperty({ example: 3840, description: 'Sum of host capacities (hosts of every status, until decommissioned)' }) capacity: number;
  @ApiProperty({ example: 1200 }) allocated: number;
  @ApiProperty({ nullable: true, type: Number, description: 'Measured use; null until agents report it' }) used: number | null;
  @ApiProperty({ example: 2640, description: 'capacity − allocated' }) free: number;
  @ApiProperty({ example: 2400, description: 'Free capacity on hosts that are up, i.e. what placement can use' }) placeable: number;
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
