import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ResourceClassesModule } from '../resource-classes/resource-classes.module';
import { TenantsModule } from '../tenants/tenants.module';
import { HostsController } from './hosts.controller';
import { HostsRepository } from './hosts.repository';
import { HostsService } from './hosts.service';
import { PlacementCatalog } from './placement-catalog';

@Module({
  imports: [TenantsModule, ResourceClassesModule, AuditModule],
  controllers: [HostsController],
  providers: [HostsService, HostsRepository, PlacementCatalog],
  exports: [HostsRepository, PlacementCatalog, HostsService],
})
export class HostsModule {}
