import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  capacityOf,
  CLASSIFICATIONS,
  Classification,
  HOST_NAME_PATTERN,
  HOST_STATUSES,
  HostStatus,
  inventoryFree,
  inventoryOvercommitted,
  OPERATOR_HOST_STATUSES,
  ResourceUnit,
  SLUG_PATTERN,
} from '@dcm/domain';
import type { HostEntity, HostOrigin } from '@dcm/persistence';
import type { Report } from '@dcm/protocol';
import { IsBoolean, IsIn, IsNumber, IsPositive, IsString, Matches, Max, MaxLength, ValidateIf } from 'class-validator';
import { PageLimit, PageOffset } from '../common/paging';
import { IsAmountInput, IsLabels, IsResourceMap, IsSafeText, OptionalNotNull } from '../common/validators';

const amountSchema = { oneOf: [{ type: 'integer' }, { type: 'string' }] };

export class InventoryDto {
  @ApiProperty({ ...amountSchema, example: 64, description: 'Integer in the class unit; byte classes also accept "512GiB"' })
  @IsAmountInput()
  total: number | string;

  @ApiPropertyOptional({ ...amountSchema, example: 4, default: 0 })
  @OptionalNotNull()
  @IsAmountInput()
  reserved?: number | string;

  @ApiPropertyOptional({ example: 4, description: 'Overcommit factor; defaults: vcpu 4.0, memory 1.0, storage 1.0' })
  @OptionalNotNull()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsPositive()
  @Max(1000)
  allocationRatio?: number;

  @ApiPropertyOptional({ ...amountSchema, description: 'Smallest single allocation' })
  @OptionalNotNull()
  @IsAmountInput()
  minUnit?: number | string;

  @ApiPropertyOptional({ ...amountSchema, description: 'Largest single allocation' })
  @OptionalNotNull()
  @IsAmountInput()
  maxUnit?: number | string;

  @ApiPropertyOptional({ ...amountSchema, description: 'Allocations must be multiples of this' })
  @OptionalNotNull()
  @IsAmountInput()
  stepSize?: number | string;
}

export class CreateHostDto {
  @ApiProperty({ example: 'blv-c01', pattern: HOST_NAME_PATTERN.source })
  @IsString()
  @Matches(HOST_NAME_PATTERN, { message: 'name must be 1–63 characters of a-z, 0-9, ".", "_" and "-", starting with a letter or digit' })
  name: string;

  @ApiProperty({ example: 'blaenavon-hall-a' })
  @IsString()
  @Matches(SLUG_PATTERN, { message: 'site must be 2–63 characters of a-z, 0-9 and -' })
  site: string;

  @ApiPropertyOptional({ example: 'a03' })
  @OptionalNotNull()
  @IsString()
  @MaxLength(63)
  @IsSafeText({ blank: false })
  rack?: string;

  @ApiPropertyOptional({ example: { model: 'PowerEdge R760' } })
  @OptionalNotNull()
  @IsLabels()
  labels?: Record<string, string>;

  @ApiPropertyOptional({ enum: CLASSIFICATIONS, default: 'OFFICIAL', description: 'The highest classification it may hold' })
  @OptionalNotNull()
  @IsIn(CLASSIFICATIONS)
  accreditation?: Classification;

  @ApiPropertyOptional({ example: 'gwent-police', description: 'Slug of the only tenant this host may serve' })
  @OptionalNotNull()
  @IsString()
  @Matches(SLUG_PATTERN)
  dedicatedTenant?: string;

  @ApiPropertyOptional({ enum: OPERATOR_HOST_STATUSES, default: 'up' })
  @OptionalNotNull()
  @IsIn(OPERATOR_HOST_STATUSES)
  status?: 'up' | 'maintenance';

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/InventoryDto' },
    example: { vcpu: { total: 64, reserved: 4 }, memory: { total: '512GiB', reserved: '16GiB' }, storage: { total: '20TiB' } },
  })
  @OptionalNotNull()
  @IsResourceMap()
  inventories?: Record<string, unknown>;
}

export class UpdateHostDto {
  @ApiPropertyOptional({ example: 'blaenavon-hall-b' })
  @OptionalNotNull()
  @IsString()
  @Matches(SLUG_PATTERN)
  site?: string;

  @ApiPropertyOptional({ nullable: true, type: String })
  @OptionalNotNull()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @MaxLength(63)
  @IsSafeText({ blank: false })
  rack?: string | null;

  @ApiPropertyOptional()
  @OptionalNotNull()
  @IsLabels()
  labels?: Record<string, string>;

  @ApiPropertyOptional({ enum: CLASSIFICATIONS })
  @OptionalNotNull()
  @IsIn(CLASSIFICATIONS)
  accreditation?: Classification;

  @ApiPropertyOptional({ nullable: true, type: String, description: 'null makes the host shared again' })
  @OptionalNotNull()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @Matches(SLUG_PATTERN)
  dedicatedTenant?: string | null;

  @ApiPropertyOptional({ enum: OPERATOR_HOST_STATUSES, description: '"maintenance" takes the host out of placement; "up" puts it back' })
  @OptionalNotNull()
  @IsIn(OPERATOR_HOST_STATUSES)
  status?: 'up' | 'maintenance';

  @ApiPropertyOptional({ description: 'true makes an enrolled host placeable; false takes it out of placement' })
  @OptionalNotNull()
  @IsBoolean()
  accepted?: boolean;
}

export class ListHostsQueryDto {
  @ApiPropertyOptional({ example: 'blaenavon-hall-a' })
  @OptionalNotNull()
  @IsString()
  @Matches(SLUG_PATTERN)
  site?: string;

  @ApiPropertyOptional({ enum: HOST_STATUSES })
  @OptionalNotNull()
  @IsIn(HOST_STATUSES)
  status?: HostStatus;

  @ApiPropertyOptional({ enum: CLASSIFICATIONS, description: 'Only hosts accredited exactly this high' })
  @OptionalNotNull()
  @IsIn(CLASSIFICATIONS)
  accreditation?: Classification;

  /** Without it every matching host is listed, as before paging existed; X-Total-Count always says how many match. */
  @PageLimit()
  limit?: number;

  @PageOffset()
  offset?: number;
}

/** What a list of hosts filters on. */
export type HostFilter = Pick<ListHostsQueryDto, 'site' | 'status' | 'accreditation'>;

export class InventoryResponseDto {
  @ApiProperty({ enum: ['count', 'bytes'] }) unit: ResourceUnit;
  @ApiProperty({ example: 64 }) total: number;
  @ApiProperty({ example: 4 }) reserved: number;
  @ApiProperty({ example: 4 }) allocationRatio: number;
  @ApiProperty({ nullable: true, type: Number }) minUnit: number | null;
  @ApiProperty({ nullable: true, type: Number }) maxUnit: number | null;
  @ApiProperty({ nullable: true, type: Number }) stepSize: number | null;
  @ApiProperty({ example: 240, description: 'floor((total − reserved) × allocationRatio)' }) capacity: number;
  @ApiProperty({ example: 96 }) allocated: number;
  @ApiProperty({ example: 144, description: 'capacity − allocated, never below 0' }) free: number;
  @ApiProperty({ description: 'allocated exceeds capacity (the total fell below what was given out): nothing more is placed here' })
  overcommitted: boolean;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: "What the host's agent last measured; on a host an operator registered it may differ from total, which stands",
  })
  measuredTotal: number | null;
}

export interface HostMeasurementsDto {
  seq: number;
  collectedAt: string;
  receivedAt: string;
  cpu: Report['cpu'];
  memory: Report['memory'];
  filesystems: Report['filesystems'];
  network: Report['network'];
  tenants: Report['tenants'];
}

export class HostResponseDto {
  @ApiProperty({ example: 'blv-c01' }) name: string;
  @ApiProperty({ example: 'blaenavon-hall-a' }) site: string;
  @ApiProperty({ nullable: true, type: String }) rack: string | null;
  @ApiProperty({ example: { model: 'PowerEdge R760' } }) labels: Record<string, string>;
  @ApiProperty({ enum: CLASSIFICATIONS }) accreditation: Classification;
  @ApiProperty({ nullable: true, type: String }) dedicatedTenant: string | null;
  @ApiProperty({ enum: HOST_STATUSES }) status: HostStatus;
  @ApiProperty({ enum: ['operator', 'agent'], description: "Who owns the inventory: an operator's stands, an agent's follows its measurements" })
  origin: HostOrigin;
  @ApiProperty({ description: 'Placeable: an enrolled host needs an operator to accept it' }) accepted: boolean;
  @ApiProperty({ description: 'Some class has more allocated than capacity' }) overcommitted: boolean;
  @ApiProperty({ nullable: true, type: String }) lastReportAt: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The enrolled agent, if any' }) agentId: string | null;
  @ApiPropertyOptional({
    nullable: true,
    type: Object,
    description: "GET /v1/hosts/:name only: the agent's latest report (seq, collectedAt, receivedAt, cpu, memory, filesystems, network, tenants)",
  })
  measurements?: HostMeasurementsDto | null;
  @ApiPropertyOptional({
    type: [String],
    example: ['torfaen'],
    description: 'GET /v1/hosts/:name only: tenants bound to the host, whose use its agent may report without an allocation there',
  })
  boundTenants?: string[];
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/InventoryResponseDto' } })
  inventories: Record<string, InventoryResponseDto>;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

/** A host as the API shows it: inventories in class order with capacity, free and overcommitted by the domain's rules. */
export function toHostResponse(
  host: HostEntity,
  tenantSlugs: Map<string, string>,
  unitOf: (resourceClass: string) => ResourceUnit | undefined,
): HostResponseDto {
  const inventories: Record<string, InventoryResponseDto> = {};
  for (const inventory of [...(host.inventories ?? [])].sort((a, b) => a.resourceClass.localeCompare(b.resourceClass))) {
    const capacity = capacityOf(inventory);
    inventories[inventory.resourceClass] = {
      unit: unitOf(inventory.resourceClass) ?? 'count',
      total: inventory.total,
      reserved: inventory.reserved,
      allocationRatio: inventory.allocationRatio,
      minUnit: inventory.minUnit,
      maxUnit: inventory.maxUnit,
      stepSize: inventory.stepSize,
      capacity,
      allocated: inventory.allocated,
      free: inventoryFree(inventory),
      overcommitted: inventoryOvercommitted(inventory),
      measuredTotal: inventory.measuredTotal,
    };
  }
  return {
    name: host.name,
    site: host.site,
    rack: host.rack,
    labels: host.labels,
    accreditation: host.accreditation,
    dedicatedTenant: host.dedicatedTenantId ? (tenantSlugs.get(host.dedicatedTenantId) ?? null) : null,
    status: host.status,
    origin: host.origin,
    accepted: host.accepted,
    overcommitted: Object.values(inventories).some((inventory) => inventory.overcommitted),
    lastReportAt: host.lastReportAt?.toISOString() ?? null,
    agentId: host.agentId,
    inventories,
    createdAt: host.createdAt.toISOString(),
    updatedAt: host.updatedAt.toISOString(),
  };
}
