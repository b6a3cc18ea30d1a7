import { Controller, Get, Param, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { CLASSIFICATIONS, Classification, HostStatus } from '@dcm/domain';
import type { FastifyReply } from 'fastify';
import { AllocationsService } from '../allocations/allocations.service';
import { Public } from '../common/principal';
import { CapacityForecastService } from '../capacity/capacity-forecast.service';
import { CapacityService } from '../capacity/capacity.service';
import { HostsRepository } from '../hosts/hosts.repository';
import { HostsService } from '../hosts/hosts.service';
import { TenantsRepository } from '../tenants/tenants.repository';
import { TenantsService } from '../tenants/tenants.service';
import { ConsoleAccess, ConsoleAuthGuard } from './console-auth';
import { ConsoleExceptionFilter } from './console.filter';
import { wholeNumber } from './console-forms';
import { ConsoleRequest, ConsoleView } from './console-view';
import { pagination } from './console-paging';

export const HOSTS_PER_PAGE = 50;
const HOST_STATUSES: HostStatus[] = ['up', 'stale', 'down', 'maintenance'];

/** The facility overview, the hosts list and a host's page: operators and viewers. */
@ApiExcludeController()
@Public()
@UseGuards(ConsoleAuthGuard)
@UseFilters(ConsoleExceptionFilter)
@ConsoleAccess('viewer')
@Controller('console')
export class ConsoleFacilityController {
  constructor(
    private readonly view: ConsoleView,
    private readonly capacity: CapacityService,
    private readonly forecast: CapacityForecastService,
    private readonly hosts: HostsService,
    private readonly hostsRepository: HostsRepository,
    private readonly allocations: AllocationsService,
    private readonly tenants: TenantsService,
    private readonly tenantsRepository: TenantsRepository,
  ) {}

  /** A tenant token's home is its organisation; this page is the operators' and viewers'. */
  @Get()
  @ConsoleAccess('tenant')
  async overview(@Req() request: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    if (request.consoleUser!.principal.role === 'tenant') return reply.redirect(`/console/organisations/${request.consoleUser!.tenantSlug}`, 303);
    const [capacity, forecast, tenants, worst] = await Promise.all([
      this.capacity.summary(),
      this.forecast.forecast(),
      this.tenants.list(),
      this.tenantsRepository.worstQuotaStates(),
    ]);
    const live = tenants.filter((tenant) => tenant.state !== 'offboarded');
    const tenantStates = {
      warning: live.filter((tenant) => worst.get(tenant.id) === 'warning').length,
      over: live.filter((tenant) => worst.get(tenant.id) === 'over').length,
      frozen: live.filter((tenant) => tenant.state === 'frozen').length,
    };
    // The soonest the facility fills, on either basis, and which class and basis.
    let soonest: { at: string; resourceClass: string; basis: string } | null = null;
    for (const [resourceClass, figures] of Object.entries(forecast.facility.resources)) {
      for (const basis of ['allocated', 'used'] as const) {
        const at = figures.fullAt[basis];
        if (at && (!soonest || at < soonest.at)) soonest = { at, resourceClass, basis };
      }
    }
    await this.view.page(request, reply, 'overview', { capacity, tenantStates, soonest, tenantCount: live.length });
  }

  @Get('hosts')
  async hostsList(
    @Req() request: ConsoleRequest,
    @Res() reply: FastifyReply,
    @Query('site') siteText?: string,
    @Query('status') statusText?: string,
    @Query('accreditation') accreditationText?: string,
    @Query('page') pageText?: string,
  ): Promise<void> {
    const sites = await this.hostsRepository.liveSites();
    // Unknown filter values are ignored rather than refused: a form's select offers only known ones.
    const site = siteText && sites.includes(siteText) ? siteText : undefined;
    const status = HOST_STATUSES.find((value) => value === statusText);
    const accreditation = CLASSIFICATIONS.find((value) => value === accreditationText) as Classification | undefined;
    const page = wholeNumber(pageText ?? '1', 1, 1_000_000) ?? 1;
    const { hosts, total } = await this.hosts.list({ site, status, accreditation }, { limit: HOSTS_PER_PAGE, offset: (page - 1) * HOSTS_PER_PAGE });
    const query = new URLSearchParams({ ...(site ? { site } : {}), ...(status ? { status } : {}), ...(accreditation ? { accreditation } : {}) });
    await this.view.page(request, reply, 'hosts', {
      hosts,
      total,
      sites,
      statuses: HOST_STATUSES,
      classifications: CLASSIFICATIONS,
      filter: { site, status, accreditation },
      paging: pagination(this.view.messages(request), '/console/hosts', query, page, HOSTS_PER_PAGE, total),
      first: total === 0 ? 0 : (page - 1) * HOSTS_PER_PAGE + 1,
      last: Math.min(total, page * HOSTS_PER_PAGE),
    });
  }

  @Get('hosts/:name')
  async host(@Req() request: ConsoleRequest, @Res() reply: FastifyReply, @Param('name') name: string): Promise<void> {
    const host = await this.hosts.get(name);
    const allocations = await this.allocations.list({ host: name, status: 'active', limit: 1000 });
    await this.view.page(request, reply, 'host', { host, allocations });
  }
}
