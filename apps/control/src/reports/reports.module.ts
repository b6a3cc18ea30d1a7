import { Module } from '@nestjs/common';
import { HistoryModule } from '../history/history.module';
import { TenantsModule } from '../tenants/tenants.module';
import { ReportsController } from './reports.controller';
import { ReportsRepository } from './reports.repository';
import { ReportsService } from './reports.service';

/** Showback (unit-hours allocated and measured per tenant) and the idle-allocation report. */
@Module({
  imports: [HistoryModule, TenantsModule],
  controllers: [ReportsController],
  providers: [ReportsService, ReportsRepository],
  exports: [ReportsService],
})
export class ReportsModule {}
