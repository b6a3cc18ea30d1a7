import { Module } from '@nestjs/common';
import { AllocationsModule } from '../allocations/allocations.module';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { CapacityModule } from '../capacity/capacity.module';
import { GrantsModule } from '../grants/grants.module';
import { HostsModule } from '../hosts/hosts.module';
import { QuotasModule } from '../quotas/quotas.module';
import { ReportsModule } from '../reports/reports.module';
import { TenantsModule } from '../tenants/tenants.module';
import { ConsoleAuditController } from './console-audit.controller';
import { ConsoleAuth, ConsoleAuthGuard } from './console-auth';
import { ConsoleFacilityController } from './console-facility.controller';
import { ConsoleOnboardingController } from './console-onboarding.controller';
import { ConsoleOnboardingService } from './console-onboarding.service';
import { ConsoleOrganisationsController } from './console-organisations.controller';
import { ConsoleSessionController } from './console-session.controller';
import { ConsoleView } from './console-view';
import { ConsoleExceptionFilter } from './console.filter';

/** The web console at /console/: pages over the same services as the API (see console-plugins.ts for its Fastify side). */
@Module({
  imports: [AuthModule, AuditModule, TenantsModule, QuotasModule, GrantsModule, HostsModule, AllocationsModule, CapacityModule, ReportsModule],
  controllers: [ConsoleSessionController, ConsoleFacilityController, ConsoleOrganisationsController, ConsoleOnboardingController, ConsoleAuditController],
  providers: [ConsoleView, ConsoleAuth, ConsoleAuthGuard, ConsoleExceptionFilter, ConsoleOnboardingService],
  exports: [ConsoleView],
})
export class ConsoleModule {}
