import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { HostsModule } from '../hosts/hosts.module';
import { QuotasModule } from '../quotas/quotas.module';
import { ResourceClassesModule } from '../resource-classes/resource-classes.module';
import { TelemetryModule } from '../telemetry/telemetry.module';
import { TenantsModule } from '../tenants/tenants.module';
import { AllocationsController } from './allocations.controller';
import { AllocationsRepository } from './allocations.repository';
import { AllocationsService } from './allocations.service';
import { IdempotencyRepository } from './idempotency.repository';

@Module({
  imports: [TenantsModule, QuotasModule, HostsModule, ResourceClassesModule, TelemetryModule, AuditModule],
  controllers: [AllocationsController],
  providers: [AllocationsService, AllocationsRepository, IdempotencyRepository],
  exports: [AllocationsService],
})
export class AllocationsModule {}
