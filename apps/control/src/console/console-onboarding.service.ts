import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@dcm/persistence';
import type { Actor } from '../common/actor';
import { CreatedTokenResponseDto } from '../auth/token.dto';
import { TokensService } from '../auth/tokens.service';
import { Clock } from '../common/clock';
import { QuotasService } from '../quotas/quotas.service';
import type { TenantIsolation, TokenRole } from '@dcm/persistence';
import type { Classification, ResourceAmounts } from '@dcm/domain';
import { TenantsService } from '../tenants/tenants.service';

/** A limit as typed into a form: digits are a number (counts take no strings), anything else as the API takes it ("256GiB"). */
export function limitInput(text: string): number | string {
  return /^\d{1,16}$/.test(text) ? Number(text) : text;
}

/** What the onboarding pages gathered, one question at a time. */
export interface OnboardingAnswers {
  slug: string;
  name: string;
  contact: string;
  classification: Classification;
  isolation: TenantIsolation;
  /** Limits as typed, per class ("64", "256GiB"); a class left blank gets no quota. */
  quotas: Record<string, string>;
  joinTokens: { count: number; uses: number; days: number };
}

/**
 * Onboards an organisation as one change: the tenant, its quotas and the join tokens for its hosts are committed
 * together or not at all, through the same services (and rules, and audit events) as the API's routes.
 */
@Injectable()
export class ConsoleOnboardingService {
  constructor(
    private readonly tenants: TenantsService,
    private readonly quotas: QuotasService,
    private readonly tokens: TokensService,
    private readonly unitOfWork: UnitOfWork,
    private readonly clock: Clock,
  ) {}

  /** The limits as the API would take them; a class left blank has no quota. Throws the API's ValidationFailed. */
  parseQuotas(quotas: Record<string, string>): Promise<ResourceAmounts> {
    return this.quotas.parseLimits(Object.fromEntries(Object.entries(quotas).flatMap(([name, limit]) => (limit === '' ? [] : [[name, limitInput(limit)]]))));
  }

  async onboard(answers: OnboardingAnswers, actor: Actor, issuerRole: TokenRole | null): Promise<CreatedTokenResponseDto[]> {
    const limits = await this.parseQuotas(answers.quotas);
    const expiresAt = new Date(this.clock.now().getTime() + answers.joinTokens.days * 86_400_000);
    const joinTokens = Array.from({ length: answers.joinTokens.count }, (_, index) => ({
      kind: 'join' as const,
      uses: answers.joinTokens.uses,
      expiresAt,
      name: `${answers.slug} hosts ${index + 1}`,
    }));
    return this.unitOfWork.run(async (tx) => {
      const { slug, name, contact, classification, isolation } = answers;
      await this.tenants.createWithin({ slug, name, contact, classification, isolation }, actor, tx);
      await this.quotas.replaceWithin(slug, limits, actor, tx);
      return this.tokens.issueJoinTokensWithin(joinTokens, actor, issuerRole, tx);
    });
  }
}
