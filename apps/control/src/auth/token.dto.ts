import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { HOST_NAME_PATTERN, SLUG_PATTERN } from '@dcm/domain';
import type { TokenEntity, TokenKind, TokenRole } from '@dcm/persistence';
import { Type } from 'class-transformer';
import { IsBoolean, IsDate, IsIn, IsInt, IsString, Matches, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { IsSafeText, OptionalNotNull } from '../common/validators';

const ISSUABLE_KINDS = ['api', 'join'] as const;
const API_ROLES = ['admin', 'operator', 'viewer', 'tenant'] as const;

export class CreateTokenDto {
  @ApiProperty({ enum: ISSUABLE_KINDS, example: 'api', description: 'api: for people and scripts; join: for enrolling agents' })
  @IsIn(ISSUABLE_KINDS)
  kind: 'api' | 'join';

  @ApiPropertyOptional({ enum: API_ROLES, example: 'viewer', description: 'Required for api tokens' })
  @ValidateIf((token: CreateTokenDto) => token.kind === 'api' || token.role !== undefined)
  @IsIn(API_ROLES)
  role?: (typeof API_ROLES)[number];

  @ApiPropertyOptional({ example: 'torfaen', description: 'The tenant a tenant-role token is bound to' })
  @ValidateIf((token: CreateTokenDto) => token.role === 'tenant' || token.tenant !== undefined)
  @IsString()
  @Matches(SLUG_PATTERN)
  tenant?: string;

  @ApiPropertyOptional({ example: 1, description: 'Join tokens: how many enrolments it allows (default 1)' })
  @OptionalNotNull()
  @IsInt()
  @Min(1)
  @Max(100_000)
  uses?: number;

  @ApiPropertyOptional({ example: 'blv-c01', description: 'Join tokens: the existing host this token may re-enrol (and only that host)' })
  @OptionalNotNull()
  @IsString()
  @Matches(HOST_NAME_PATTERN)
  host?: string;

  @ApiPropertyOptional({ example: false, description: 'Join tokens: the host it enrols is accepted (placeable) at once' })
  @OptionalNotNull()
  @IsBoolean()
  accept?: boolean;

  @ApiPropertyOptional({ example: '2026-12-31T00:00:00Z', description: 'Join tokens: at most 30 days ahead; without it, 30 days from now' })
  @OptionalNotNull()
  @Type(() => Date)
  @IsDate()
  expiresAt?: Date;

  @ApiPropertyOptional({ example: 'Grafana read-only' })
  @OptionalNotNull()
  @IsString()
  @MaxLength(200)
  @IsSafeText()
  name?: string;
}

export class TokenResponseDto {
  @ApiProperty() id: string;
  @ApiProperty({ enum: ['api', 'join', 'agent'] }) kind: TokenKind;
  @ApiProperty({ nullable: true, enum: ['admin', 'operator', 'viewer', 'tenant', 'agent'] }) role: TokenRole | null;
  @ApiProperty({ nullable: true, type: String }) tenant: string | null;
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: Number }) usesLeft: number | null;
  @ApiProperty({ nullable: true, type: String, description: 'Join tokens: the existing host it may re-enrol' }) host: string | null;
  @ApiProperty({ description: 'Join tokens: whether the host it enrols is accepted at once' }) accept: boolean;
  @ApiProperty({ nullable: true, type: String }) expiresAt: string | null;
  @ApiProperty({ nullable: true, type: String }) revokedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) lastUsedAt: string | null;
  @ApiProperty() createdAt: string;
}

export class CreatedTokenResponseDto extends TokenResponseDto {
  @ApiProperty({ description: 'The secret: shown once, only its hash is stored' }) token: string;
}

export function toTokenResponse(token: TokenEntity, tenantSlug: string | null): TokenResponseDto {
  return {
    id: token.id,
    kind: token.kind,
    role: token.role,
    tenant: tenantSlug,
    name: token.name,
    usesLeft: token.usesLeft,
    host: token.hostName,
    accept: token.accept,
    expiresAt: token.expiresAt?.toISOString() ?? null,
    revokedAt: token.revokedAt?.toISOString() ?? null,
    lastUsedAt: token.lastUsedAt?.toISOString() ?? null,
    createdAt: token.createdAt.toISOString(),
  };
}
