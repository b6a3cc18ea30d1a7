import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../common/principal';
import { SchedulerStatusDto } from './scheduler.dto';
import { SchedulerService } from './scheduler.service';
import { ApiProblems } from '../common/problem.dto';

@ApiTags('scheduler')
@ApiBearerAuth()
@ApiProblems()
@Controller('v1/scheduler')
export class SchedulerController {
  constructor(private readonly scheduler: SchedulerService) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Which replica runs the scheduler jobs, and how each job last ran on this replica' })
  @ApiOkResponse({ type: SchedulerStatusDto })
  status(): Promise<SchedulerStatusDto> {
    return this.scheduler.status();
  }
}
