import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { SurgeGrantEntity } from '@dcm/persistence';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsDate, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { IsResourceMap, OptionalNotNull } from '../common/validators';

export type GrantState = 'active' | 'expired' | 'revoked';

export class CreateGrantDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: { oneOf: [{ type: 'integer' }, { type: 'string' }] },
    example: { vcpu: 32, memory: '64GiB' },
    description: "How much to add to each class's quota while the grant runs; the tenant must have a quota for each class",
  })
  @IsResourceMap()
  resources: Record<string, unknown>;

  @ApiProperty({ example: '2026-12-01T00:00:00Z', description: 'When the grant ends: in the future, at most 366 days ahead' })
  @Type(() => Date)
  @IsDate()
  expiresAt: Date;

  @ApiProperty({ example: 'Major incident INC-4711: restore of the records system' })
  @IsString()
  @MinLength(3)
  @MaxLength(500)
  // Printable text: no control characters in what the audit log and the CLI show.
  @Matches(/^[^\p{Cc}]+$/u, { message: 'reason must not contain control characters' })
  reason: string;
}

export class ListGrantsQueryDto {
  @ApiPropertyOptional({ default: false, description: 'Include grants that have ended (expired or revoked)' })
  @OptionalNotNull()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  all?: boolean;
}

export class GrantResponseDto {
  @ApiProperty({ example: '1b4e28ba-2fa1-11d2-883f-0016d3cca427' }) id: string;
  @ApiProperty({ example: 'torfaen' }) tenant: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, example: { vcpu: 32, memory: 68719476736 } })
  resources: Record<string, number>;
  @ApiProperty() reason: string;
  @ApiProperty({ example: 'token:00000000-0000-4000-8000-00000000b007' }) createdBy: string;
  @ApiProperty() createdAt: string;
  @ApiProperty() expiresAt: string;
  @ApiProperty({ nullable: true, type: String, description: 'When it ended: at expiry, or earlier when revoked' }) endedAt: string | null;
  @ApiProperty({ enum: ['active', 'expired', 'revoked'] }) state: GrantState;
}

export function toGrantResponse(grant: SurgeGrantEntity, tenant: string, resources: Record<string, number>): GrantResponseDto {
  return {
    id: grant.id,
    tenant,
    resources,
    reason: grant.reason,
    createdBy: grant.createdBy,
    createdAt: grant.createdAt.toISOString(),
    expiresAt: grant.expiresAt.toISOString(),
    endedAt: grant.endedAt?.toISOString() ?? null,
    state: grant.endReason ?? 'active',
  };
}
