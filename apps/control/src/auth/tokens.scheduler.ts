import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { JobRunner } from '../scheduler/job-runner';
import { TokensService } from './tokens.service';

export const TOKEN_REVOCATIONS_JOB = 'token-revocations';
/** How late, at most, another replica's revocation reaches this one's token cache. */
const TOKEN_REVOCATIONS_MS = 1_000;

@Injectable()
export class TokensScheduler implements OnApplicationBootstrap {
  constructor(
    private readonly tokens: TokensService,
    private readonly jobs: JobRunner,
  ) {}

  onApplicationBootstrap(): void {
    // On every replica: each keeps its own cache.
    this.jobs.register({ name: TOKEN_REVOCATIONS_JOB, intervalMs: TOKEN_REVOCATIONS_MS, everyReplica: true, run: () => this.tokens.checkRevocations() });
  }
}
