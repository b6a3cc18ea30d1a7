import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../common/principal';
import { CapacityForecastService } from './capacity-forecast.service';
import { CapacityForecastResponseDto, CapacityResponseDto, ClassCapacityDto, ClassForecastDto } from './capacity.dto';
import { CapacityService } from './capacity.service';
import { ApiProblems } from '../common/problem.dto';

@ApiTags('capacity')
@ApiBearerAuth()
@ApiProblems()
@ApiExtraModels(ClassCapacityDto, ClassForecastDto)
@Controller('v1/capacity')
export class CapacityController {
  constructor(
    private readonly capacity: CapacityService,
    private readonly forecasts: CapacityForecastService,
  ) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Facility and per-site totals per class: capacity, allocated, used, free' })
  @ApiOkResponse({ type: CapacityResponseDto })
  summary(): Promise<CapacityResponseDto> {
    return this.capacity.summary();
  }

  @Get('forecast')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Days until each class is full, per site and for the facility, from a least-squares fit of allocations and measured use' })
  @ApiOkResponse({ type: CapacityForecastResponseDto })
  forecast(): Promise<CapacityForecastResponseDto> {
    return this.forecasts.forecast();
  }
}
