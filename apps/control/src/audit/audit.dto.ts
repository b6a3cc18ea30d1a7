import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { AuditEventEntity } from '@dcm/persistence';
import { Type } from 'class-transformer';
import { IsInt, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { OptionalNotNull } from '../common/validators';
import { INSTANT_PATTERN } from '../common/instant';
import { PageLimit } from '../common/paging';

export class AuditQueryDto {
  @ApiPropertyOptional({ example: 'torfaen', description: "The subject's name: a tenant's slug, a host's name, an allocation's or token's id" })
  @OptionalNotNull()
  @IsString()
  @MaxLength(200)
  subject?: string;

  @ApiPropertyOptional({ example: 'tenant', description: 'tenant, quota, grant, host, inventory, allocation, token, agent, resource-class, audit' })
  @OptionalNotNull()
  @Matches(/^[a-z][a-z-]{0,29}$/, { message: 'subjectType must be a lower-case word such as tenant' })
  subjectType?: string;

  @ApiPropertyOptional({ example: 'token:00000000-0000-4000-8000-000000000001', description: 'token:<id> or system:<job>' })
  @OptionalNotNull()
  @IsString()
  @MaxLength(100)
  actor?: string;

  @ApiPropertyOptional({ example: 'allocation.create' })
  @OptionalNotNull()
  @Matches(/^[a-z][a-z-]{0,29}\.[a-z_]{1,29}$/, { message: 'action must look like tenant.create' })
  action?: string;

  @ApiPropertyOptional({ example: '2026-11-01', description: 'Events at or after this instant' })
  @OptionalNotNull()
  @Matches(INSTANT_PATTERN, { message: 'from must be an ISO 8601 date or date-time with a zone' })
  from?: string;

  @ApiPropertyOptional({ example: '2026-12-01', description: 'Events before this instant' })
  @OptionalNotNull()
  @Matches(INSTANT_PATTERN, { message: 'to must be an ISO 8601 date or date-time with a zone' })
  to?: string;

  @ApiPropertyOptional({ description: 'Only events with a seq below this one: pass the last seq of a page to get the next (older) page' })
  @OptionalNotNull()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  before?: number;

  @PageLimit()
  limit?: number;
}

export class AuditVerifyQueryDto {
  @ApiPropertyOptional({ description: 'The seq of an anchor taken earlier (GET /v1/audit/anchor); with anchorHash' })
  @OptionalNotNull()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  anchorSeq?: number;

  @ApiPropertyOptional({ description: 'The hash of the anchor taken earlier; with anchorSeq' })
  @OptionalNotNull()
  @Matches(/^[0-9a-f]{64}$/, { message: 'anchorHash must be the 64 lower-case hex digits of an anchor' })
  anchorHash?: string;
}

export class AuditAnchorResponseDto {
  @ApiProperty({ example: 4711, description: 'The newest event' }) seq: number;
  @ApiProperty({ description: 'Its hash' }) hash: string;
  @ApiProperty({ example: '2026-11-23T10:00:00.000Z', description: 'When it was written' }) at: string;
}

export class AuditEventResponseDto {
  @ApiProperty({ example: 42 }) seq: number;
  @ApiProperty({ example: '2026-11-23T10:00:00.000Z' }) at: string;
  @ApiProperty({ example: 'token:00000000-0000-4000-8000-000000000001' }) actor: string;
  @ApiProperty({ example: 'quota.set' }) action: string;
  @ApiProperty({ example: 'tenant' }) subjectType: string;
  @ApiProperty({ example: 'torfaen' }) subject: string;
  @ApiProperty({ nullable: true, type: 'object', additionalProperties: true, description: 'The subject before the change' }) before: unknown;
  @ApiProperty({ nullable: true, type: 'object', additionalProperties: true, description: 'The subject after the change' }) after: unknown;
  @ApiProperty({ description: 'The hash of the previous event' }) prevHash: string;
  @ApiProperty({ description: 'HMAC-SHA256 of this event (its fields, keyId and prevHash) under its key; SHA-256 if it is unkeyed' }) hash: string;
  @ApiProperty({ nullable: true, type: String, description: "The id of the HMAC's key; null for an event written before the chain was keyed" })
  keyId: string | null;
}

export class ChainBreakDto {
  @ApiProperty() seq: number;
  @ApiProperty() reason: string;
}

export class KeyUseDto {
  @ApiProperty() id: string;
  @ApiProperty({ description: 'Events signed with it' }) events: number;
  @ApiProperty() firstSeq: number;
  @ApiProperty() lastSeq: number;
  @ApiProperty({ description: 'Whether control holds it (DCM_AUDIT_KEY or DCM_AUDIT_KEYRING), and so could check its events' }) available: boolean;
}

export class UnverifiableDto {
  @ApiProperty() events: number;
  @ApiProperty() firstSeq: number;
}

export class AnchorCheckDto {
  @ApiProperty() seq: number;
  @ApiProperty() hash: string;
  @ApiProperty({
    enum: ['matches', 'differs', 'missing', 'pruned'],
    description: 'matches: the event is there, unchanged; differs: it was changed; missing: it is gone (the log was cut); pruned: retention dropped it',
  })
  result: string;
}

export class DiscontinuityDto {
  @ApiProperty() seq: number;
  @ApiProperty() subjectType: string;
  @ApiProperty() subject: string;
  @ApiProperty({ example: 'quota:vcpu', description: 'details, quota:<class>, inventory:<class>, state, agent, …' }) aspect: string;
  @ApiProperty() reason: string;
}

export class AuditVerificationResponseDto {
  @ApiProperty({ description: 'Whether every kept event follows from the one before it, every hash was checked, and the anchor (if given) matches' })
  intact: boolean;
  @ApiProperty({ description: 'Events checked and found in order before the first break' }) checked: number;
  @ApiProperty({ nullable: true, type: Number }) firstSeq: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'The newest event' }) lastSeq: number | null;
  @ApiProperty({ nullable: true, type: ChainBreakDto, description: 'The first event that does not follow from the one before it' })
  firstBroken: ChainBreakDto | null;
  @ApiProperty({ nullable: true, type: Number, description: 'The log starts with events written before the chain was keyed, up to this one' })
  unkeyedUntilSeq: number | null;
  @ApiProperty({ type: [KeyUseDto], description: 'The keys that signed the log' }) keys: KeyUseDto[];
  @ApiProperty({ nullable: true, type: UnverifiableDto, description: 'Events under keys control does not hold: not checked' })
  unverifiable: UnverifiableDto | null;
  @ApiProperty({ nullable: true, type: AnchorCheckDto }) anchor: AnchorCheckDto | null;
  @ApiProperty({ description: "Whether every event's before continues the last after of the same subject and aspect" }) continuous: boolean;
  @ApiProperty({ nullable: true, type: DiscontinuityDto }) firstDiscontinuity: DiscontinuityDto | null;
}

export function toAuditEventResponse(event: AuditEventEntity): AuditEventResponseDto {
  return {
    seq: event.seq,
    at: event.at.toISOString(),
    actor: event.actor,
    action: event.action,
    subjectType: event.subjectType,
    subject: event.subject,
    before: event.before === null ? null : JSON.parse(event.before),
    after: event.after === null ? null : JSON.parse(event.after),
    prevHash: event.prevHash,
    hash: event.hash,
    keyId: event.keyId,
  };
}
