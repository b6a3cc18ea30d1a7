import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { HOST_NAME_PATTERN, SLUG_PATTERN } from '@dcm/domain';
import type { PlacementStrategy } from '@dcm/domain';
import type { AllocationStatus } from '@dcm/persistence';
import { IsIn, IsString, Matches, MaxLength } from 'class-validator';
import { IsResourceMap, IsSafeText, OptionalNotNull } from '../common/validators';
import { PageLimit, PageOffset } from '../common/paging';
import type { AllocationRecord } from './allocations.repository';

export class CreateAllocationDto {
  @ApiProperty({ example: 'torfaen' })
  @IsString()
  @Matches(SLUG_PATTERN, { message: 'tenant must be a tenant slug' })
  tenant: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: { oneOf: [{ type: 'integer' }, { type: 'string' }] },
    example: { vcpu: 8, memory: '32GiB' },
  })
  @IsResourceMap()
  resources: Record<string, unknown>;

  @ApiPropertyOptional({ example: 'blv-c01', description: 'Place on this host; without it placement picks one' })
  @OptionalNotNull()
  @IsString()
  @Matches(HOST_NAME_PATTERN, { message: 'host must be a host name' })
  host?: string;

  @ApiPropertyOptional({ example: 'Revenues and benefits database' })
  @OptionalNotNull()
  @IsString()
  @MaxLength(500)
  @IsSafeText()
  description?: string;

  @ApiPropertyOptional({ enum: ['spread', 'pack'], description: 'Placement strategy; the configured default (spread) otherwise' })
  @OptionalNotNull()
  @IsIn(['spread', 'pack'])
  strategy?: PlacementStrategy;
}

export class ListAllocationsQueryDto {
  @ApiPropertyOptional({ example: 'torfaen' })
  @OptionalNotNull()
  @IsString()
  @Matches(SLUG_PATTERN)
  tenant?: string;

  @ApiPropertyOptional({ example: 'blv-c01' })
  @OptionalNotNull()
  @IsString()
  @Matches(HOST_NAME_PATTERN)
  host?: string;

  @ApiPropertyOptional({ enum: ['active', 'released', 'all'], default: 'active' })
  @OptionalNotNull()
  @IsIn(['active', 'released', 'all'])
  status?: AllocationStatus | 'all';

  @PageLimit()
  limit?: number;

  @PageOffset()
  offset?: number;
}

export class AllocationResponseDto {
  @ApiProperty({ example: '1b4e28ba-2fa1-11d2-883f-0016d3cca427' }) id: string;
  @ApiProperty({ example: 'torfaen' }) tenant: string;
  @ApiProperty({ example: 'blv-c01' }) host: string;
  @ApiProperty({ example: 'blaenavon-hall-a' }) site: string;
  @ApiProperty({ example: { vcpu: 8, memory: 34359738368 } }) resources: Record<string, number>;
  @ApiProperty({ example: 'Revenues and benefits database' }) description: string;
  @ApiProperty({ enum: ['active', 'released'] }) status: AllocationStatus;
  @ApiProperty() createdAt: string;
  @ApiProperty({ nullable: true, type: String }) releasedAt: string | null;
}

export function toAllocationResponse(allocation: AllocationRecord): AllocationResponseDto {
  return {
    id: allocation.id,
    tenant: allocation.tenantSlug,
    host: allocation.hostName,
    site: allocation.site,
    resources: allocation.resources,
    description: allocation.description,
    status: allocation.status,
    createdAt: allocation.createdAt.toISOString(),
    releasedAt: allocation.releasedAt?.toISOString() ?? null,
  };
}
