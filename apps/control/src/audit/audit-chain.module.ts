import { Module } from '@nestjs/common';
import { CONTROL_CONFIG } from '../config/control-config';
import { AuditKeyring } from './audit-keyring';
import { AuditLog } from './audit-log';

/** The audit chain's keys and writer, which need no database: the migration that keys the chain seals it with them. */
@Module({
  providers: [{ provide: AuditKeyring, inject: [CONTROL_CONFIG], useFactory: AuditKeyring.fromConfig }, AuditLog],
  exports: [AuditKeyring, AuditLog],
})
export class AuditChainModule {}
