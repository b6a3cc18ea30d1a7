import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CLASSIFICATIONS, Classification, ISOLATIONS, OPERATOR_TENANT_STATES, SLUG_PATTERN, TENANT_STATES } from '@dcm/domain';
import type { TenantEntity, TenantIsolation, TenantState } from '@dcm/persistence';
import { IsIn, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { IsSafeText, OptionalNotNull } from '../common/validators';

export class CreateTenantDto {
  @ApiProperty({ example: 'torfaen', pattern: SLUG_PATTERN.source, description: 'Immutable identifier' })
  @IsString()
  @Matches(SLUG_PATTERN, { message: 'slug must be 2–63 characters of a-z, 0-9 and -, starting with a letter or digit' })
  slug: string;

  @ApiProperty({ example: 'Torfaen County Borough Council' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @IsSafeText({ blank: false })
  name: string;

  @ApiPropertyOptional({ example: 'ict-service-desk@torfaen.gov.uk' })
  @OptionalNotNull()
  @IsString()
  @MaxLength(320)
  @IsSafeText()
  contact?: string;

  @ApiPropertyOptional({ enum: ISOLATIONS, default: 'shared' })
  @OptionalNotNull()
  @IsIn(ISOLATIONS)
  isolation?: TenantIsolation;

  @ApiPropertyOptional({ enum: CLASSIFICATIONS, default: 'OFFICIAL' })
  @OptionalNotNull()
  @IsIn(CLASSIFICATIONS)
  classification?: Classification;
}

export class UpdateTenantDto {
  @ApiPropertyOptional({ example: 'Torfaen County Borough Council' })
  @OptionalNotNull()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @IsSafeText({ blank: false })
  name?: string;

  @ApiPropertyOptional()
  @OptionalNotNull()
  @IsString()
  @MaxLength(320)
  @IsSafeText()
  contact?: string;

  @ApiPropertyOptional({ enum: ISOLATIONS })
  @OptionalNotNull()
  @IsIn(ISOLATIONS)
  isolation?: TenantIsolation;

  @ApiPropertyOptional({ enum: CLASSIFICATIONS })
  @OptionalNotNull()
  @IsIn(CLASSIFICATIONS)
  classification?: Classification;

  @ApiPropertyOptional({ enum: OPERATOR_TENANT_STATES, description: 'Freeze or unfreeze by hand; offboard with DELETE' })
  @OptionalNotNull()
  @IsIn(OPERATOR_TENANT_STATES)
  state?: (typeof OPERATOR_TENANT_STATES)[number];
}

export class ListTenantsQueryDto {
  @ApiPropertyOptional({ enum: TENANT_STATES })
  @OptionalNotNull()
  @IsIn(TENANT_STATES)
  state?: TenantState;
}

export class TenantResponseDto {
  @ApiProperty({ example: 'torfaen' }) slug: string;
  @ApiProperty({ example: 'Torfaen County Borough Council' }) name: string;
  @ApiProperty({ example: 'ict-service-desk@torfaen.gov.uk' }) contact: string;
  @ApiProperty({ enum: ISOLATIONS }) isolation: TenantIsolation;
  @ApiProperty({ enum: CLASSIFICATIONS }) classification: Classification;
  @ApiProperty({ enum: TENANT_STATES }) state: TenantState;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
  @ApiProperty({ nullable: true, type: String }) offboardedAt: string | null;
}

export function toTenantResponse(tenant: TenantEntity): TenantResponseDto {
  return {
    slug: tenant.slug,
    name: tenant.name,
    contact: tenant.contact,
    isolation: tenant.isolation,
    classification: tenant.classification,
    state: tenant.state,
    createdAt: tenant.createdAt.toISOString(),
    updatedAt: tenant.updatedAt.toISOString(),
    offboardedAt: tenant.offboardedAt?.toISOString() ?? null,
  };
}
