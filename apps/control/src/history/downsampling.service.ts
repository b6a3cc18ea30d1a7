import { Inject, Injectable, Logger } from '@nestjs/common';
import { UnitOfWork } from '@dcm/persistence';
import { Clock } from '../common/clock';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { downsamplingWatermark, HistoryRepository, HOUR_MS, SAMPLE_TABLES } from './history.repository';

const DAY_MS = 86_400_000;
/** Hours folded per transaction, so that SQLite's single writer is never held for long. */
const HOURS_PER_TRANSACTION = 6;
/** Hours folded per table and run at most; a long backlog (after an upgrade, a long outage) is caught up over runs. */
const HOURS_PER_RUN = 7 * 24;

export interface DownsamplingOutcome {
  /** Per table, the hours folded into hourly rows by this run. */
  hours: Record<string, number>;
}

/**
 * History retention: host, tenant and capacity samples stay at one-minute resolution for sampleRawDays; older hours
 * become one row each (averages for levels of use, maxima for sizes and counters; see SAMPLE_TABLES), and everything
 * older than sampleRetentionDays is deleted. A watermark per table remembers how far folding got.
 */
@Injectable()
export class DownsamplingService {
  private readonly logger = new Logger(DownsamplingService.name);

  constructor(
    private readonly history: HistoryRepository,
    private readonly unitOfWork: UnitOfWork,
    private readonly clock: Clock,
    @Inject(CONTROL_CONFIG) private readonly config: ControlConfig,
  ) {}

  async run(): Promise<DownsamplingOutcome> {
    const now = this.clock.now().getTime();
    const rawUntil = Math.floor((now - this.config.sampleRawDays * DAY_MS) / HOUR_MS) * HOUR_MS;
    const keepFrom = now - this.config.sampleRetentionDays * DAY_MS;
    const outcome: DownsamplingOutcome = { hours: {} };
    for (const table of SAMPLE_TABLES) {
      await this.unitOfWork.run((tx) => this.history.deleteBefore(table.name, keepFrom, tx));
      const watermark = downsamplingWatermark(table.name);
      let done = await this.history.watermark(watermark);
      let folded = 0;
      while (done < rawUntil && folded < HOURS_PER_RUN) {
        const first = await this.history.firstBucket(table.name, done);
        if (first === null || first >= rawUntil) {
          await this.unitOfWork.run((tx) => this.history.setWatermark(watermark, rawUntil, tx));
          break;
        }
        const from = Math.floor(first / HOUR_MS) * HOUR_MS;
        const to = Math.min(rawUntil, from + HOURS_PER_TRANSACTION * HOUR_MS);
        await this.unitOfWork.run(async (tx) => {
          await this.history.downsample(table, from, to, tx);
          await this.history.setWatermark(watermark, to, tx);
        });
        folded += (to - from) / HOUR_MS;
        done = to;
      }
      outcome.hours[table.name] = folded;
    }
    if (Object.values(outcome.hours).some((hours) => hours > 0)) this.logger.log({ msg: 'samples downsampled to hourly', ...outcome.hours });
    return outcome;
  }
}
