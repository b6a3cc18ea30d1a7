import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { DatabaseProbe } from './database-probe';
import { Public } from '../common/principal';
import { NotRateLimited } from '../common/rate-limit';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly probe: DatabaseProbe,
  ) {}

  @Get('live')
  @NotRateLimited()
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process is serving' })
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @NotRateLimited()
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: the database answers and every migration is applied' })
  ready() {
    return this.health.check([() => this.database(), () => this.migrations()]);
  }

  private async database() {
    const indicator = this.indicators.check('database');
    try {
      await this.probe.ping();
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }

  private async migrations() {
    const indicator = this.indicators.check('migrations');
    return (await this.probe.migrationsApplied()) ? indicator.up() : indicator.down({ message: 'migrations are pending' });
  }
}
