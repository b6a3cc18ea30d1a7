import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { migrationsApplied } from '@dcm/persistence';
import { DataSource } from 'typeorm';
import { Public } from '../common/principal';
import { NotRateLimited } from '../common/rate-limit';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly dataSource: DataSource,
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
    return this.health.check([() => this.database.pingCheck('database'), () => this.migrations()]);
  }

  private async migrations() {
    const indicator = this.indicators.check('migrations');
    return (await migrationsApplied(this.dataSource)) ? indicator.up() : indicator.down({ message: 'migrations are pending' });
  }
}
