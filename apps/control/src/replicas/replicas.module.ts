import { Module } from '@nestjs/common';
import { SharedSettingsGuard } from './shared-settings';

/** What replicas on one PostgreSQL database must agree on, checked as each starts (see SharedSettingsGuard). */
@Module({ providers: [SharedSettingsGuard] })
export class ReplicasModule {}
