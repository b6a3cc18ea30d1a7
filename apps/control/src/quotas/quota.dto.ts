import { ApiProperty } from '@nestjs/swagger';
import type { QuotaState, ResourceUnit } from '@dcm/domain';

export class QuotaPositionDto {
  @ApiProperty({ enum: ['count', 'bytes'] }) unit: ResourceUnit;
  @ApiProperty({ example: 64 }) limit: number;
  @ApiProperty({ example: 24 }) allocated: number;
  @ApiProperty({ nullable: true, type: Number, description: 'Measured use from agent reports; null until measured' }) used: number | null;
  @ApiProperty({ example: 40 }) available: number;
  @ApiProperty({
    enum: ['ok', 'warning', 'over'],
    description: 'ok; warning from 90 % (quotaWarningRatio) of the limit; over when allocated or used exceeds it',
  })
  state: QuotaState;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'When the enforcement job saw the quota enter this state; null until its next pass has seen it',
  })
  since: string | null;
}

export class TenantQuotasResponseDto {
  @ApiProperty({ example: 'torfaen' }) tenant: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/QuotaPositionDto' },
    example: { vcpu: { unit: 'count', limit: 64, allocated: 24, used: null, available: 40, state: 'ok', since: '2026-11-22T10:00:00.000Z' } },
  })
  quotas: Record<string, QuotaPositionDto>;
}
