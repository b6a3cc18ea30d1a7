import { Module } from '@nestjs/common';
import { HistoryModule } from '../history/history.module';
import { HostsModule } from '../hosts/hosts.module';
import { ResourceClassesModule } from '../resource-classes/resource-classes.module';
import { CapacityForecastService } from './capacity-forecast.service';
import { CapacityController } from './capacity.controller';
import { CapacityService } from './capacity.service';

@Module({
  imports: [HostsModule, ResourceClassesModule, HistoryModule],
  controllers: [CapacityController],
  providers: [CapacityService, CapacityForecastService],
  exports: [CapacityForecastService, CapacityService],
})
export class CapacityModule {}
