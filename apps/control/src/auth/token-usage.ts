import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { rawQuery, UnitOfWork } from '@dcm/persistence';

/** lastUsedAt is kept to the minute: finer would cost every request (every agent report) a write. */
const RESOLUTION_MS = 60_000;
/** Uses noted in this time are written in one transaction. */
const FLUSH_DELAY_MS = 1_000;

/**
 * Keeps each token's lastUsedAt, to the minute, without a write per request: uses are noted in memory and written in
 * batches, at most once a minute per token.
 */
@Injectable()
export class TokenUsage implements OnApplicationShutdown {
  private readonly logger = new Logger(TokenUsage.name);
  /** When each token's use was last noted; bounded by the number of tokens that exist. */
  private readonly notedAt = new Map<string, number>();
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly unitOfWork: UnitOfWork) {}

  touch(tokenId: string, now: number): void {
    const noted = this.notedAt.get(tokenId);
    if (noted !== undefined && now - noted < RESOLUTION_MS) return;
    this.notedAt.set(tokenId, now);
    this.pending.set(tokenId, now);
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_DELAY_MS).unref();
  }

  async flush(): Promise<void> {
    this.timer = null;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.unitOfWork.run(async (tx) => {
        for (const [tokenId, at] of batch) {
          await rawQuery(tx, 'UPDATE tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)', [at, tokenId, at]);
        }
      });
    } catch (error) {
      // Losing a lastUsedAt is harmless; note the uses again so that the next use retries.
      for (const tokenId of batch.keys()) this.notedAt.delete(tokenId);
      this.logger.warn(`could not record token use: ${(error as Error).message}`);
    }
  }

  onApplicationShutdown(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    return this.flush();
  }
}
