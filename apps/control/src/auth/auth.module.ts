import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TenantsModule } from '../tenants/tenants.module';
import { AuthGuard } from './auth.guard';
import { BootstrapTokenService } from './bootstrap-token.service';
import { TokensController } from './tokens.controller';
import { TokensRepository } from './tokens.repository';
import { TokensService } from './tokens.service';

@Module({
  imports: [TenantsModule],
  controllers: [TokensController],
  providers: [TokensService, TokensRepository, BootstrapTokenService, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [TokensService],
})
export class AuthModule {}
