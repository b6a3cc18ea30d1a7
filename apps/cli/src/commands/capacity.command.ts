import { HOST_STATUSES } from '@dcm/domain';
import { Command } from 'commander';
import type { Capacity, ClassCapacity, ClassForecast, Forecast, HostCounts } from '../api-client';
import { amount, columns, days, render, when } from '../output';
import { type CommandContext, type OutputOptions, withExamples, withOutput } from './command-context';

const FACILITY = '(facility)';
/** A site's host counts, in the order the table shows them. */
const HOST_COUNTS: readonly (keyof HostCounts)[] = [...HOST_STATUSES, 'unaccepted'];

export function registerCapacity(program: Command, context: CommandContext): void {
  withExamples(
    withOutput(program.command('capacity').description('facility and per-site capacity, allocated, used, free and placeable per class')),
    'dcm capacity',
    "dcm capacity -o json | jq '.facility.resources.memory.free'",
  ).action(async (options: OutputOptions) => {
    render(context.printer, options.output, await context.client().capacity(), capacityTable);
  });

  withExamples(
    withOutput(program.command('forecast').description('days until each class is full, for the facility and per site, from the history trend')),
    'dcm forecast',
    'dcm forecast -o yaml',
  ).action(async (options: OutputOptions) => {
    render(context.printer, options.output, await context.client().forecast(), forecastTable);
  });
}

function capacityTable(capacity: Capacity): string {
  const scopes = [{ site: FACILITY, ...capacity.facility }, ...capacity.sites];
  const hosts = columns(
    ['site', ...HOST_COUNTS],
    scopes.map((scope) => [scope.site, ...HOST_COUNTS.map((count) => scope.hosts[count])]),
  );
  const rows = scopes.flatMap((scope) =>
    Object.entries(scope.resources).map(([resourceClass, position]: [string, ClassCapacity]) => [
      scope.site,
      resourceClass,
      amount(position.capacity, position.unit),
      amount(position.allocated, position.unit),
      amount(position.used, position.unit),
      // Free never goes below 0: say why it is 0 where more is allocated than there is.
      `${amount(position.free, position.unit)}${position.overcommitted ? ' (overcommitted)' : ''}`,
      amount(position.placeable, position.unit),
    ]),
  );
  const legend = 'USED: what the hosts measure now (vCPU busy, memory total − available, bytes used on storage mounts); FREE: capacity − allocated\n';
  return `${columns(['site', 'resource', 'capacity', 'allocated', 'used', 'free', 'placeable'], rows)}${legend}\nHosts by status:\n${hosts}`;
}

function forecastTable(forecast: Forecast): string {
  const scopes = [{ site: FACILITY, ...forecast.facility }, ...forecast.sites];
  const rows = scopes.flatMap((scope) =>
    Object.entries(scope.resources).map(([resourceClass, position]: [string, ClassForecast]) => [
      scope.site,
      resourceClass,
      amount(position.capacity, position.unit),
      amount(position.allocated, position.unit),
      amount(position.used, position.unit),
      days(position.daysUntilFull.allocated),
      days(position.daysUntilFull.used),
      position.points,
    ]),
  );
  if (rows.length === 0) return 'No capacity history yet: the forecast needs hourly samples of at least one host.\n';
  const heading = `Days until full from ${when(forecast.at)}, fitted over the last ${forecast.windowDays} days of hourly history\n\n`;
  // Allocated and used here are the latest hour's averages of the history the line is fitted to.
  return heading + columns(['site', 'resource', 'capacity', 'allocated (1h)', 'used (1h)', 'days (allocated)', 'days (used)', 'points'], rows);
}
