import { Module } from '@nestjs/common';
import { HostsModule } from '../hosts/hosts.module';
import { ResourceClassesModule } from '../resource-classes/resource-classes.module';
import { CapacityController } from './capacity.controller';
import { CapacityService } from './capacity.service';

@Module({
  imports: [HostsModule, ResourceClassesModule],
  controllers: [CapacityController],
  providers: [CapacityService],
})
export class CapacityModule {}
