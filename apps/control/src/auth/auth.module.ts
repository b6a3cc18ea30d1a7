import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuditModule } from '../audit/audit.module';
import { TenantsModule } from '../tenants/tenants.module';
import { AuthGuard } from './auth.guard';
import { BootstrapTokenService } from './bootstrap-token.service';
import { TokenUsage } from './token-usage';
import { TokensController } from './tokens.controller';
import { TokensRepository } from './tokens.repository';
import { TokensScheduler } from './tokens.scheduler';
import { TokensService } from './tokens.service';

@Module({
  imports: [TenantsModule, AuditModule],
  controllers: [TokensController],
  providers: [TokensService, TokensRepository, TokensScheduler, TokenUsage, BootstrapTokenService, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [TokensService],
})
export class AuthModule {}
