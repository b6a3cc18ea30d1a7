import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { TokensService } from './tokens.service';

/**
 * On start, revokes any token of an offboarded tenant still valid, makes sure an admin can get in and hands the
 * bootstrap admin token over in <dataDir>/admin.token (0600): a generated one when it is minted, and DCM_ADMIN_TOKEN
 * whenever it is set (so every replica's data dir has it).
 */
@Injectable()
export class BootstrapTokenService implements OnApplicationBootstrap {
  private readonly logger = new Logger(BootstrapTokenService.name);

  constructor(
    private readonly tokens: TokensService,
    @Inject(CONTROL_CONFIG) private readonly config: ControlConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const orphans = await this.tokens.revokeTokensOfOffboardedTenants();
    if (orphans > 0) this.logger.warn(`revoked ${orphans} token(s) still bound to offboarded tenants`);
    const secret = (await this.tokens.ensureBootstrapAdmin(this.config.adminToken)) ?? this.config.adminToken;
    const path = resolve(join(this.config.dataDir, 'admin.token'));
    if (existsSync(path)) chmodSync(path, 0o600); // one left readable by an earlier start
    if (secret === undefined) {
      if (!existsSync(path)) this.logger.warn(`${path} is missing and the stored bootstrap token cannot be recovered; set DCM_ADMIN_TOKEN to replace it`);
      return;
    }
    if (existsSync(path) && readFileSync(path, 'utf8').trim() === secret) return;
    mkdirSync(this.config.dataDir, { recursive: true });
    writeFileSync(path, `${secret}\n`, { mode: 0o600 });
    chmodSync(path, 0o600); // the mode option only applies when the file is created
    this.logger.log(`bootstrap admin token written to ${path} (mode 0600)`);
  }
}
