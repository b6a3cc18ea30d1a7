import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../common/principal';
import { CapacityForecastService } from './capacity-forecast.service';
import { CapacityForecastResponseDto, CapacityResponseDto } from './capacity.dto';
import { CapacityService } from './capacity.service';

@ApiTags('capacity')
@ApiBearerAuth()
@Controller('v1/capacity')
export class CapacityController {
  constructor(
    private readonly capacity: CapacityService,
    private readonly forecasts: CapacityForecastService,
  ) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Facility and per-site totals per class: capacity, allocated, used, free' })
  summary(): Promise<CapacityResponseDto> {
    return this.capacity.summary();
  }

  @Get('forecast')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Days until each class is full, per site and for the facility, from a least-squares fit of allocations and measured use' })
  forecast(): Promise<CapacityForecastResponseDto> {
    return this.forecasts.forecast();
  }
}
