import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/principal';
import { CapacityResponseDto } from './capacity.dto';
import { CapacityService } from './capacity.service';

@ApiTags('capacity')
@ApiBearerAuth()
@Controller('v1/capacity')
export class CapacityController {
  constructor(private readonly capacity: CapacityService) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Facility and per-site totals per class: capacity, allocated, used, free' })
  summary(): Promise<CapacityResponseDto> {
    return this.capacity.summary();
  }
}
