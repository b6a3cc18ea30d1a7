import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '../common/actor';
import { CurrentActor, RequireRole } from '../common/principal';
import { DeclareResourceClassDto, ResourceClassResponseDto } from './resource-class.dto';
import { ResourceClassesService } from './resource-classes.service';
import { ApiProblems } from '../common/problem.dto';

@ApiTags('resource classes')
@ApiBearerAuth()
@ApiProblems()
@Controller('v1/resource-classes')
export class ResourceClassesController {
  constructor(private readonly service: ResourceClassesService) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'List resource classes: vcpu, memory, storage and custom_* classes' })
  @ApiOkResponse({ type: [ResourceClassResponseDto] })
  async list(): Promise<ResourceClassResponseDto[]> {
    return (await this.service.list()).map(({ name, unit, description }) => ({ name, unit, description }));
  }

  @Put(':name')
  @RequireRole('operator')
  @ApiOperation({ summary: 'Declare a custom resource class (custom_<name>) with its unit' })
  @ApiOkResponse({ type: ResourceClassResponseDto })
  async declare(@Param('name') name: string, @Body() body: DeclareResourceClassDto, @CurrentActor() actor: Actor): Promise<ResourceClassResponseDto> {
    const { unit, description } = await this.service.declare(name, body.unit, body.description ?? null, actor);
    return { name, unit, description };
  }
}
