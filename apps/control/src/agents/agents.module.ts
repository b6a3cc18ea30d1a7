import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { HostsModule } from '../hosts/hosts.module';
import { TelemetryModule } from '../telemetry/telemetry.module';
import { TenantsModule } from '../tenants/tenants.module';
import { AgentsController } from './agents.controller';
import { AgentsRepository } from './agents.repository';
import { AgentsService } from './agents.service';
import { LivenessScheduler } from './liveness.scheduler';
import { LivenessService } from './liveness.service';

@Module({
  imports: [AuthModule, HostsModule, TenantsModule, TelemetryModule, AuditModule],
  controllers: [AgentsController],
  providers: [AgentsService, AgentsRepository, LivenessService, LivenessScheduler],
  exports: [AgentsRepository],
})
export class AgentsModule {}
