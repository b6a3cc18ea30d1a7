import { Inject, Injectable } from '@nestjs/common';
import { DAY_MS, FORECAST_BASES, fullAt, SeriesPoint } from '@dcm/domain';
import { Clock } from '../common/clock';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { HistoryRepository } from '../history/history.repository';
import { ResourceClassesService } from '../resource-classes/resource-classes.service';
import { CapacityForecastGauge, CapacityForecastResponseDto, ClassForecastDto } from './capacity.dto';

interface HourlyPoint {
  hour: number;
  capacity: number;
  allocated: number;
  used: number | null;
}

const FACILITY = '\u0000facility';

/**
 * When each site (and the facility) runs out of each class: a least-squares line through the hourly history of
 * allocations (and of measured use) over the last forecastWindowDays, projected to the latest capacity. Hourly points
 * keep the weight of every hour the same whether it is still held by the minute or already downsampled.
 */
@Injectable()
export class CapacityForecastService {
  constructor(
    private readonly history: HistoryRepository,
    private readonly resourceClasses: ResourceClassesService,
    private readonly clock: Clock,
    @Inject(CONTROL_CONFIG) private readonly config: ControlConfig,
  ) {}

  async forecast(): Promise<CapacityForecastResponseDto> {
    const now = this.clock.now();
    const rows = await this.history.capacityHistory(new Date(now.getTime() - this.config.forecastWindowDays * DAY_MS));
    // site → class → hour → point; the facility is the sum of its sites, hour by hour.
    const series = new Map<string, Map<string, Map<number, HourlyPoint>>>();
    const pointOf = (site: string, resourceClass: string, hour: number) => {
      const bySite = series.get(site) ?? new Map<string, Map<number, HourlyPoint>>();
      series.set(site, bySite);
      const byClass = bySite.get(resourceClass) ?? new Map<number, HourlyPoint>();
      bySite.set(resourceClass, byClass);
      const point = byClass.get(hour) ?? { hour, capacity: 0, allocated: 0, used: null };
      byClass.set(hour, point);
      return point;
    };
    for (const row of rows) {
      for (const site of [row.site, FACILITY]) {
        const point = pointOf(site, row.resourceClass, row.hour);
        point.capacity += row.capacity;
        point.allocated += row.allocated;
        if (row.used !== null) point.used = (point.used ?? 0) + row.used;
      }
    }
    const resourcesOf = (site: string) =>
      Object.fromEntries(
        [...(series.get(site) ?? new Map<string, Map<number, HourlyPoint>>())]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([resourceClass, points]) => [resourceClass, this.classForecast(resourceClass, [...points.values()], now.getTime())]),
      );
    return {
      at: now.toISOString(),
      windowDays: this.config.forecastWindowDays,
      facility: { resources: resourcesOf(FACILITY) },
      sites: [...series.keys()]
        .filter((site) => site !== FACILITY)
        .sort((a, b) => a.localeCompare(b))
        .map((site) => ({ site, resources: resourcesOf(site) })),
    };
  }

  /**
   * When each site's allocations, and its measured use, fill its capacity, per class: the values of
   * dcm_capacity_forecast_full_timestamp_seconds (the metrics module's one call into the forecast).
   */
  async gauges(): Promise<CapacityForecastGauge[]> {
    const forecast = await this.forecast();
    return forecast.sites.flatMap(({ site, resources }) =>
      Object.entries(resources).flatMap(([resource, figures]) =>
        FORECAST_BASES.map((basis) => {
          const at = figures.fullAt[basis];
          return { site, resource, basis, timestampSeconds: at === null ? null : Date.parse(at) / 1000 };
        }),
      ),
    );
  }

  private classForecast(resourceClass: string, points: HourlyPoint[], now: number): ClassForecastDto {
    points.sort((a, b) => a.hour - b.hour);
    const latest = points[points.length - 1];
    const allocated: SeriesPoint[] = points.map((point) => ({ at: point.hour, value: point.allocated }));
    const used: SeriesPoint[] = points.filter((point) => point.used !== null).map((point) => ({ at: point.hour, value: point.used! }));
    const full = { allocated: fullAt(allocated, latest.capacity, now), used: fullAt(used, latest.capacity, now) };
    return {
      unit: this.resourceClasses.unitOf(resourceClass) ?? 'count',
      capacity: latest.capacity,
      allocated: Math.round(latest.allocated),
      used: latest.used === null ? null : Math.round(latest.used),
      points: points.length,
      daysUntilFull: { allocated: daysFrom(now, full.allocated), used: daysFrom(now, full.used) },
      fullAt: { allocated: isoOrNull(full.allocated), used: isoOrNull(full.used) },
    };
  }
}

/** Days from now to the instant, to a tenth, for people; null stays null. */
function daysFrom(now: number, at: number | null): number | null {
  return at === null ? null : Math.round(((at - now) / DAY_MS) * 10) / 10;
}

function isoOrNull(at: number | null): string | null {
  return at === null ? null : new Date(at).toISOString();
}
