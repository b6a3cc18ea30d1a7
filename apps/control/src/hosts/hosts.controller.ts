import { Body, Controller, Delete, Get, Param, Patch, PipeTransform, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiExtraModels, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { Actor } from '../common/actor';
import { CurrentActor, RequireRole } from '../common/principal';
import { Problems } from '../common/problem';
import { CreateHostDto, HostResponseDto, InventoryDto, InventoryResponseDto, ListHostsQueryDto, UpdateHostDto } from './host.dto';
import { HostsService } from './hosts.service';
import { ApiProblems } from '../common/problem.dto';

/** A route that takes no body: none, or an empty JSON object; anything else is refused rather than ignored. */
class NoBodyPipe implements PipeTransform<unknown, undefined> {
  transform(value: unknown): undefined {
    const empty = value === undefined || (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0);
    if (!empty) throw Problems.validation('this request takes no body');
    return undefined;
  }
}

@ApiTags('hosts')
@ApiBearerAuth()
@ApiProblems()
@ApiExtraModels(InventoryResponseDto)
@Controller('v1/hosts')
export class HostsController {
  constructor(private readonly hosts: HostsService) {}

  @Post()
  @RequireRole('operator')
  @ApiOperation({ summary: 'Register a host (a resource provider) with its inventories' })
  @ApiCreatedResponse({ type: HostResponseDto })
  create(@Body() body: CreateHostDto, @CurrentActor() actor: Actor): Promise<HostResponseDto> {
    return this.hosts.create(body, actor);
  }

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'List live hosts by name, filtered by site, status and accreditation; limit and offset page them (X-Total-Count: how many match)' })
  @ApiHeader({ name: 'X-Total-Count', description: 'How many hosts match the filters, whatever the page' })
  @ApiOkResponse({ type: [HostResponseDto] })
  async list(@Query() query: ListHostsQueryDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<HostResponseDto[]> {
    const { site, status, accreditation, limit, offset } = query;
    const { hosts, total } = await this.hosts.list({ site, status, accreditation }, { limit, offset });
    void reply.header('x-total-count', String(total));
    return hosts;
  }

  @Get(':name')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Show a host with its inventories and status' })
  @ApiOkResponse({ type: HostResponseDto })
  get(@Param('name') name: string): Promise<HostResponseDto> {
    return this.hosts.get(name);
  }

  @Patch(':name')
  @RequireRole('operator')
  @ApiOperation({ summary: 'Change a host: site, rack, labels, accreditation, dedicated tenant, maintenance' })
  @ApiOkResponse({ type: HostResponseDto })
  update(@Param('name') name: string, @Body() body: UpdateHostDto, @CurrentActor() actor: Actor): Promise<HostResponseDto> {
    return this.hosts.update(name, body, actor);
  }

  @Put(':name/inventories/:class')
  @RequireRole('operator')
  @ApiOperation({ summary: 'Set one inventory of a host: total, reserved, allocationRatio, unit bounds' })
  @ApiOkResponse({ type: HostResponseDto })
  setInventory(
    @Param('name') name: string,
    @Param('class') resourceClass: string,
    @Body() body: InventoryDto,
    @CurrentActor() actor: Actor,
  ): Promise<HostResponseDto> {
    return this.hosts.setInventory(name, resourceClass, body, actor);
  }

  @Put(':name/tenants/:slug')
  @RequireRole('operator')
  @ApiOperation({ summary: "Bind a tenant to a host, so that the host's agent may report the tenant's use without an allocation there" })
  @ApiOkResponse({ type: HostResponseDto })
  bindTenant(
    @Param('name') name: string,
    @Param('slug') slug: string,
    @Body(new NoBodyPipe()) _body: undefined,
    @CurrentActor() actor: Actor,
  ): Promise<HostResponseDto> {
    return this.hosts.bindTenant(name, slug, actor);
  }

  @Delete(':name/tenants/:slug')
  @RequireRole('operator')
  @ApiOperation({ summary: "End a tenant's binding to a host; its use from the host is then dropped unless it holds an active allocation there" })
  @ApiOkResponse({ type: HostResponseDto })
  unbindTenant(@Param('name') name: string, @Param('slug') slug: string, @CurrentActor() actor: Actor): Promise<HostResponseDto> {
    return this.hosts.unbindTenant(name, slug, actor);
  }

  @Delete(':name')
  @RequireRole('operator')
  @ApiOperation({ summary: 'Decommission a host; refused (409) while it has active allocations' })
  @ApiOkResponse({ type: HostResponseDto })
  decommission(@Param('name') name: string, @CurrentActor() actor: Actor): Promise<HostResponseDto> {
    return this.hosts.decommission(name, actor);
  }
}
