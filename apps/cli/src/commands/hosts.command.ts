import { Command, Option } from 'commander';
import type { Host, Inventory } from '../api-client';
import { amount, columns, fields, render, when } from '../output';
import { type CommandContext, type OutputOptions, withExamples, withOutput } from './command-context';

const SUMMARY_CLASSES = ['vcpu', 'memory', 'storage'];

export function registerHosts(program: Command, context: CommandContext): void {
  const hosts = withExamples(program.command('hosts').description('hosts, their status and inventories'), 'dcm hosts list', 'dcm hosts show blv-c01');

  withExamples(
    withOutput(hosts.command('list').description('list hosts with allocated/capacity per class'))
      .option('--site <site>', 'only hosts of this site')
      .addOption(new Option('--status <status>', 'only hosts with this status').choices(['up', 'stale', 'down', 'maintenance'])),
    'dcm hosts list',
    'dcm hosts list --site blaenavon-hall-a --status down',
  ).action(async (options: OutputOptions & { site?: string; status?: string }) => {
    render(context.printer, options.output, await context.client().listHosts({ site: options.site, status: options.status }), hostTable);
  });

  withExamples(withOutput(hosts.command('show').description('show a host and its inventories').argument('<name>')), 'dcm hosts show blv-c01').action(
    async (name: string, options: OutputOptions) => {
      render(context.printer, options.output, await context.client().getHost(name), hostDetails);
    },
  );
}

function hostTable(hosts: Host[]): string {
  return columns(
    ['name', 'site', 'rack', 'status', 'accreditation', ...SUMMARY_CLASSES.map((resourceClass) => `${resourceClass} alloc/cap`), 'last report'],
    hosts.map((host) => [
      host.name,
      host.site,
      host.rack,
      host.status,
      host.accreditation,
      ...SUMMARY_CLASSES.map((resourceClass) => allocatedOfCapacity(host.inventories[resourceClass])),
      when(host.lastReportAt),
    ]),
  );
}

function allocatedOfCapacity(inventory: Inventory | undefined): string {
  return inventory ? `${amount(inventory.allocated, inventory.unit)}/${amount(inventory.capacity, inventory.unit)}` : '-';
}

function hostDetails(host: Host): string {
  const labels = Object.entries(host.labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
  const summary = fields([
    ['Name', host.name],
    ['Site', host.site],
    ['Rack', host.rack],
    ['Status', host.status],
    ['Accreditation', host.accreditation],
    ['Dedicated to', host.dedicatedTenant],
    ['Labels', labels],
    ['Agent', host.agentId],
    ['Last report', when(host.lastReportAt)],
    ['Created', when(host.createdAt)],
  ]);
  const inventories = columns(
    ['resource', 'total', 'reserved', 'ratio', 'capacity', 'allocated', 'free'],
    Object.entries(host.inventories).map(([resourceClass, inventory]) => [
      resourceClass,
      amount(inventory.total, inventory.unit),
      amount(inventory.reserved, inventory.unit),
      inventory.allocationRatio,
      amount(inventory.capacity, inventory.unit),
      amount(inventory.allocated, inventory.unit),
      amount(inventory.free, inventory.unit),
    ]),
  );
  return `${summary}\n${inventories}`;
}
