import { hostname } from 'node:os';
import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { dataSourceOptions, migrate } from '@dcm/persistence';
import { DataSource } from 'typeorm';
import { AgentsModule } from './agents/agents.module';
import { AllocationsModule } from './allocations/allocations.module';
import { AuditChainModule } from './audit/audit-chain.module';
import { AuditLog } from './audit/audit-log';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { CapacityModule } from './capacity/capacity.module';
import { CoreModule } from './common/core.module';
import { ConsoleModule } from './console/console.module';
import { ControlConfig } from './config/control-config';
import { EnforcementModule } from './enforcement/enforcement.module';
import { GrantsModule } from './grants/grants.module';
import { HealthModule } from './health/health.module';
import { HistoryModule } from './history/history.module';
import { HostsModule } from './hosts/hosts.module';
import { MetricsModule } from './metrics/metrics.module';
import { QuotasModule } from './quotas/quotas.module';
import { ReportsModule } from './reports/reports.module';
import { ResourceClassesModule } from './resource-classes/resource-classes.module';
import { ReplicasModule } from './replicas/replicas.module';
import { SchedulerModule } from './scheduler/scheduler.module';
import { TenantsModule } from './tenants/tenants.module';

@Module({})
export class AppModule {
  static forRoot(config: ControlConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config),
        TypeOrmModule.forRootAsync({
          imports: [AuditChainModule],
          inject: [AuditLog],
          useFactory: (auditLog: AuditLog) =>
            dataSourceOptions({
              url: config.databaseUrl,
              sqliteSynchronous: config.sqliteSynchronous,
              applicationName: `dcm ${hostname()}/${process.pid}`,
              sealAuditChain: (tx) => auditLog.sealUnkeyed(tx),
            }),
          dataSourceFactory: async (options) => {
            const dataSource = await new DataSource(options!).initialize();
            await migrate(dataSource);
            return dataSource;
          },
        }),
        ScheduleModule.forRoot(),
        ReplicasModule,
        SchedulerModule,
        AuthModule,
        HealthModule,
        ResourceClassesModule,
        TenantsModule,
        QuotasModule,
        GrantsModule,
        HostsModule,
        AllocationsModule,
        CapacityModule,
        AgentsModule,
        EnforcementModule,
        HistoryModule,
        MetricsModule,
        ReportsModule,
        AuditModule,
        ConsoleModule,
      ],
    };
  }
}
