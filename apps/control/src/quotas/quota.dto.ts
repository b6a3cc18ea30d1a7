import { ApiProperty } from '@nestjs/swagger';
import { quotaState } from '@dcm/domain';
import type { QuotaState, ResourceUnit } from '@dcm/domain';
import type { QuotaPositionRow } from './quotas.repository';

export class QuotaPositionDto {
  @ApiProperty({ enum: ['count', 'bytes'] }) unit: ResourceUnit;
  @ApiProperty({ example: 64, description: 'The quota as set' }) limit: number;
  @ApiProperty({ example: 0, description: "The tenant's running surge grants for the class" }) granted: number;
  @ApiProperty({ example: 64, description: 'limit + granted: what allocations and use are weighed against' }) effectiveLimit: number;
  @ApiProperty({ example: 24 }) allocated: number;
  @ApiProperty({ nullable: true, type: Number, description: 'Measured use from agent reports; null until measured' }) used: number | null;
  @ApiProperty({ example: 40, description: 'effectiveLimit − allocated' }) available: number;
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
    example: {
      vcpu: {
        unit: 'count',
        limit: 64,
        granted: 0,
        effectiveLimit: 64,
        allocated: 24,
        used: null,
        available: 40,
        state: 'ok',
        since: '2026-11-22T10:00:00.000Z',
      },
    },
  })
  quotas: Record<string, QuotaPositionDto>;
}

/**
 * A quota's position as the API shows it. The state is worked out now (with `warningRatio`, DCM_QUOTA_WARNING_RATIO),
 * so that a lowered limit shows at once; `since` is when the enforcement job saw the quota enter that state, and null
 * until it has (it runs every enforcementIntervalSeconds).
 */
export function toQuotaPosition(quota: QuotaPositionRow, unit: ResourceUnit, warningRatio: number): QuotaPositionDto {
  const state = quotaState(quota, warningRatio);
  return {
    unit,
    limit: quota.quota,
    granted: quota.granted,
    effectiveLimit: quota.limit,
    allocated: quota.allocated,
    used: quota.used,
    available: Math.max(0, quota.limit - quota.allocated),
    state,
    since: quota.state === state ? (quota.stateSince?.toISOString() ?? null) : null,
  };
}
