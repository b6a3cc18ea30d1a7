import { Inject, Injectable } from '@nestjs/common';
import { builtinUnitOf } from '@dcm/domain';
import type { TenantScope } from '../common/principal';
import { Clock } from '../common/clock';
import { parseInstant } from '../common/instant';
import { Problems } from '../common/problem';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { IdleAllocationDto, IdleClassUseDto, IdleQueryDto, IdleResponseDto, ShowbackQueryDto, ShowbackResourceDto, ShowbackResponseDto } from './report.dto';
import { ActiveAllocationItemRow, HOUR_MS, MeasuredUseRow, ReportsRepository } from './reports.repository';
import { ShowbackPricing } from './showback-pricing';
import { TenantsRepository } from '../tenants/tenants.repository';

const DAY_MS = 24 * HOUR_MS;
export const MAX_REPORT_DAYS = 400;
/** Classes agents measure per tenant (tenant_samples): memory of its cgroups, storage used on its mounts. */
export const MEASURED_CLASSES = ['memory', 'storage'] as const;
type MeasuredClass = (typeof MEASURED_CLASSES)[number];

const WINDOW_UNITS_MS: Record<string, number> = { m: 60_000, h: HOUR_MS, d: DAY_MS };
const HOUR = BigInt(HOUR_MS);

/** Unit-milliseconds as unit-hours, without rounding before the one division. */
function unitHours(unitMillis: bigint): number {
  return Number(unitMillis / HOUR) + Number(unitMillis % HOUR) / HOUR_MS;
}

/** Six decimals are far below anything a bill can show, and keep float noise out of JSON and CSV alike. */
function rounded(value: number): number {
  return Number(value.toFixed(6));
}

@Injectable()
export class ReportsService {
  private readonly pricing: ShowbackPricing | null;

  constructor(
    private readonly reports: ReportsRepository,
    private readonly clock: Clock,
    private readonly tenants: TenantsRepository,
    @Inject(CONTROL_CONFIG) config: Pick<ControlConfig, 'showbackPrices'>,
  ) {
    this.pricing = config.showbackPrices ? new ShowbackPricing(config.showbackPrices) : null;
  }

  /**
   * Per tenant and class, unit-hours allocated and measured in [from, to). Allocated: Σ amount × the time each
   * allocation item overlapped the period (an active allocation counts up to now). Used: Σ measured value × the time
   * each sample stands for (see ReportsRepository.measuredUse).
   */
  async showback(query: ShowbackQueryDto, scope: TenantScope = null): Promise<ShowbackResponseDto> {
    const { from, to } = this.period(query);
    const onlyTenant = scope === null ? null : ((await this.tenants.findById(scope))?.slug ?? '');
    const now = this.clock.now().getTime();
    const [units, spans, measured] = await Promise.all([this.reports.units(), this.reports.allocationSpans(from, to), this.reports.measuredUse(from, to)]);

    const allocated = new Map<string, Map<string, bigint>>();
    for (const span of spans) {
      const start = Math.max(span.createdAt, from);
      const end = Math.min(span.releasedAt ?? now, to);
      if (end <= start) continue;
      const classes = allocated.get(span.tenant) ?? new Map<string, bigint>();
      allocated.set(span.tenant, classes);
      classes.set(span.resourceClass, (classes.get(span.resourceClass) ?? 0n) + BigInt(span.amount) * BigInt(end - start));
    }
    const used = new Map(measured.map((row) => [row.tenant, row]));

    const tenants = [...new Set([...allocated.keys(), ...used.keys()])].filter((tenant) => onlyTenant === null || tenant === onlyTenant).sort();
    const report: ShowbackResponseDto = {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      measuredClasses: [...MEASURED_CLASSES],
      tenants: tenants.map((tenant) => ({ tenant, resources: this.resources(allocated.get(tenant) ?? new Map(), used.get(tenant), units) })),
    };
    return this.pricing ? this.priced(report, this.pricing, units) : report;
  }

  /** The report with costs at the configured prices: per class, per tenant in total, and the prices used. */
  private priced(report: ShowbackResponseDto, pricing: ShowbackPricing, units: Map<string, string>): ShowbackResponseDto {
    const tenants = report.tenants.map(({ tenant, resources }) => {
      const costed: Record<string, ShowbackResourceDto> = {};
      for (const [name, resource] of Object.entries(resources)) {
        const allocatedCost = pricing.costOf(name, resource.unit, resource.allocatedUnitHours);
        costed[name] = { ...resource, allocatedCost, usedCost: pricing.costOf(name, resource.unit, resource.usedUnitHours) };
      }
      const rows = Object.values(costed);
      const totals = { allocatedCost: pricing.total(rows.map((row) => row.allocatedCost!)), usedCost: pricing.total(rows.map((row) => row.usedCost!)) };
      return { tenant, resources: costed, totals };
    });
    const unitOf = (name: string) => units.get(name) ?? builtinUnitOf(name) ?? 'count';
    return { ...report, tenants, prices: { currency: pricing.currency, classes: pricing.describe(unitOf) } };
  }

  /** One tenant's classes: those it was allocated in the period, and the measured ones it has samples of. */
  private resources(allocated: Map<string, bigint>, use: MeasuredUseRow | undefined, units: Map<string, string>): Record<string, ShowbackResourceDto> {
    const measuredMillis = (name: string) => (use && MEASURED_CLASSES.includes(name as MeasuredClass) ? use[name as MeasuredClass] : null);
    const names = new Set([...allocated.keys(), ...MEASURED_CLASSES.filter((name) => measuredMillis(name) !== null)]);
    const resources: Record<string, ShowbackResourceDto> = {};
    for (const name of [...names].sort()) {
      const usedMillis = measuredMillis(name);
      resources[name] = {
        unit: units.get(name) ?? 'count',
        allocatedUnitHours: rounded(unitHours(allocated.get(name) ?? 0n)),
        usedUnitHours: usedMillis === null ? null : rounded(usedMillis / HOUR_MS),
      };
    }
    return resources;
  }

  /**
   * The showback as CSV (RFC 4180, CRLF): one row per tenant and class; used_unit_hours is empty where not measured.
   * With prices, three more columns (currency, allocated_cost, used_cost) and after each tenant's classes a row whose
   * resource is `total`.
   */
  toCsv(report: ShowbackResponseDto): string {
    // Slugs, class names and currency codes are [A-Za-z0-9_-]: no field needs quoting.
    const optional = (value: number | null | undefined) => (value === null || value === undefined ? '' : String(value));
    const currency = report.prices?.currency;
    const lines = [`tenant,resource,unit,allocated_unit_hours,used_unit_hours${currency ? ',currency,allocated_cost,used_cost' : ''}`];
    for (const { tenant, resources, totals } of report.tenants) {
      for (const [name, resource] of Object.entries(resources)) {
        const costs = currency ? [currency, optional(resource.allocatedCost), optional(resource.usedCost)] : [];
        lines.push([tenant, name, resource.unit, String(resource.allocatedUnitHours), optional(resource.usedUnitHours), ...costs].join(','));
      }
      if (currency) lines.push([tenant, 'total', '', '', '', currency, optional(totals?.allocatedCost), optional(totals?.usedCost)].join(','));
    }
    return `${lines.join('\r\n')}\r\n`;
  }

  /**
   * Active allocations that look idle over the window [now − window, now). dcm measures use per tenant and host, not per
   * allocation, so an allocation is idle when it is older than the window, it holds memory or storage, and for each of
   * those classes that was measured, the tenant's highest sample on the allocation's host during the window stayed
   * below threshold × the tenant's allocated amount on that host (its active allocations older than the window). At
   * least one class must have been measured: without samples nothing is called idle. Hourly (downsampled) samples
   * are hourly averages, so windows reaching past the raw-sample days judge those hours by their averages.
   */
  async idle(query: IdleQueryDto): Promise<IdleResponseDto> {
    const threshold = query.threshold ?? 0.1;
    const window = query.window ?? '7d';
    const windowMs = Number(window.slice(0, -1)) * WINDOW_UNITS_MS[window.slice(-1)];
    if (windowMs > MAX_REPORT_DAYS * DAY_MS) throw Problems.validation(`window must be at most ${MAX_REPORT_DAYS} days`);
    const now = this.clock.now().getTime();
    const windowStart = now - windowMs;
    const [items, peaks] = await Promise.all([this.reports.activeAllocationItems(windowStart), this.reports.peakUse(windowStart, now)]);

    const byAllocation = new Map<string, ActiveAllocationItemRow[]>();
    const onHost = new Map<string, number>();
    for (const item of items) {
      byAllocation.set(item.id, [...(byAllocation.get(item.id) ?? []), item]);
      const key = `${item.tenantId}/${item.hostId}/${item.resourceClass}`;
      onHost.set(key, (onHost.get(key) ?? 0) + item.amount);
    }
    const peakOf = new Map(peaks.map((peak) => [`${peak.tenantId}/${peak.hostId}`, peak]));

    const allocations: IdleAllocationDto[] = [];
    for (const allocationItems of byAllocation.values()) {
      const [first] = allocationItems;
      const peak = peakOf.get(`${first.tenantId}/${first.hostId}`);
      const measured: Record<string, IdleClassUseDto> = {};
      let idle = true;
      for (const item of allocationItems) {
        if (!MEASURED_CLASSES.includes(item.resourceClass as MeasuredClass)) continue;
        const peakUsed = peak?.[item.resourceClass as MeasuredClass] ?? null;
        if (peakUsed === null) continue;
        const allocated = onHost.get(`${item.tenantId}/${item.hostId}/${item.resourceClass}`)!;
        measured[item.resourceClass] = { allocated, peakUsed, peakRatio: allocated > 0 ? peakUsed / allocated : 0 };
        if (peakUsed >= threshold * allocated) idle = false;
      }
      if (!idle || Object.keys(measured).length === 0) continue;
      allocations.push({
        id: first.id,
        tenant: first.tenant,
        host: first.host,
        site: first.site,
        description: first.description,
        createdAt: new Date(first.createdAt).toISOString(),
        resources: Object.fromEntries(allocationItems.map((item) => [item.resourceClass, item.amount])),
        measured,
      });
    }
    return { at: new Date(now).toISOString(), windowStart: new Date(windowStart).toISOString(), window, threshold, allocations };
  }

  private period(query: ShowbackQueryDto): { from: number; to: number } {
    const from = parseInstant(query.from);
    const to = parseInstant(query.to);
    const errors: string[] = [];
    if (Number.isNaN(from)) errors.push('from is not a valid date');
    if (Number.isNaN(to)) errors.push('to is not a valid date');
    if (errors.length === 0 && from >= to) errors.push('from must be before to');
    if (errors.length === 0 && to - from > MAX_REPORT_DAYS * DAY_MS) errors.push(`the period must be at most ${MAX_REPORT_DAYS} days`);
    if (errors.length > 0) throw Problems.validation(errors.join('; '), errors);
    return { from, to };
  }
}
