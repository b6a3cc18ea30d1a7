import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { QuotasModule } from '../quotas/quotas.module';
import { ResourceClassesModule } from '../resource-classes/resource-classes.module';
import { TenantsModule } from '../tenants/tenants.module';
import { GrantsController } from './grants.controller';
import { GrantsRepository } from './grants.repository';
import { GrantsScheduler } from './grants.scheduler';
import { GrantsService } from './grants.service';

@Module({
  imports: [TenantsModule, QuotasModule, ResourceClassesModule, AuditModule],
  controllers: [GrantsController],
  providers: [GrantsService, GrantsRepository, GrantsScheduler],
  exports: [GrantsService],
})
export class GrantsModule {}
