import { Module } from '@nestjs/common';
import { CapacitySamplingService } from './capacity-sampling.service';
import { DownsamplingService } from './downsampling.service';
import { HistoryRepository } from './history.repository';
import { HistoryScheduler } from './history.scheduler';

/** Capacity samples per site and class, and the downsampling and retention of every sample table. */
@Module({
  providers: [HistoryRepository, CapacitySamplingService, DownsamplingService, HistoryScheduler],
  exports: [HistoryRepository],
})
export class HistoryModule {}
