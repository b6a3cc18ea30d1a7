import { chmodSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { mkdirSync } from 'node:fs';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { TokensService } from './tokens.service';

/** On start, makes sure the bootstrap admin token exists and hands a new one over in <dataDir>/admin.token (0600). */
@Injectable()
export class BootstrapTokenService implements OnApplicationBootstrap {
  private readonly logger = new Logger(BootstrapTokenService.name);

  constructor(
    private readonly tokens: TokensService,
    @Inject(CONTROL_CONFIG) private readonly config: ControlConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const secret = await this.tokens.ensureBootstrapAdmin(this.config.adminToken);
    if (secret === null) return;
    const path = resolve(join(this.config.dataDir, 'admin.token'));
    mkdirSync(this.config.dataDir, { recursive: true });
    writeFileSync(path, `${secret}\n`, { mode: 0o600 });
    chmodSync(path, 0o600); // the mode option only applies when the file is created
    this.logger.log(`bootstrap admin token written to ${path} (mode 0600)`);
  }
}
