import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ResourceClassesModule } from '../resource-classes/resource-classes.module';
import { TenantsModule } from '../tenants/tenants.module';
import { QuotasController } from './quotas.controller';
import { QuotasRepository } from './quotas.repository';
import { QuotasService } from './quotas.service';

@Module({
  imports: [TenantsModule, ResourceClassesModule, AuditModule],
  controllers: [QuotasController],
  providers: [QuotasService, QuotasRepository],
  exports: [QuotasRepository, QuotasService],
})
export class QuotasModule {}
