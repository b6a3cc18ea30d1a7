import { Command, Option } from 'commander';
import type { Allocation } from '../api-client';
import { columns, fields, render, resources, when } from '../output';
import { parseResourceArgs } from '../resource-args';
import { type CommandContext, type OutputOptions, wholeNumber, withExamples, withOutput } from './command-context';

interface ListOptions extends OutputOptions {
  tenant?: string;
  host?: string;
  status?: string;
  limit?: number;
  offset?: number;
}

interface CreateOptions extends OutputOptions {
  tenant: string;
  host?: string;
  description?: string;
  strategy?: string;
  idempotencyKey?: string;
}

export function registerAllocations(program: Command, context: CommandContext): void {
  const allocations = withExamples(
    program.command('allocations').description("place and release tenants' claims on hosts"),
    'dcm allocations list --tenant torfaen',
    'dcm allocations create --tenant torfaen vcpu=8 memory=32GiB',
  );

  withExamples(
    withOutput(allocations.command('list').description('list allocations (active ones unless --status)'))
      .option('--tenant <slug>', "only this tenant's")
      .option('--host <name>', 'only those on this host')
      .addOption(new Option('--status <status>', 'active, released or all').choices(['active', 'released', 'all']))
      .option('--limit <n>', 'at most this many (control default 100, at most 1000)', wholeNumber(1))
      .option('--offset <n>', 'skip this many', wholeNumber(0)),
    'dcm allocations list --tenant torfaen',
    'dcm allocations list --host blv-c01 --status all -o yaml',
  ).action(async (options: ListOptions) => {
    const { tenant, host, status, limit, offset } = options;
    render(context.printer, options.output, await context.client().listAllocations({ tenant, host, status, limit, offset }), allocationTable);
  });

  withExamples(withOutput(allocations.command('show').description('show one allocation').argument('<id>')), 'dcm allocations show 1b4e28ba-…').action(
    async (id: string, options: OutputOptions) => {
      render(context.printer, options.output, await context.client().getAllocation(id), allocationFields);
    },
  );

  withExamples(
    withOutput(
      allocations
        .command('create')
        .description("claim resources for a tenant on one host; refused if it would exceed the tenant's quota or the host's capacity")
        .argument('<resources...>', 'CLASS=AMOUNT, e.g. vcpu=8 memory=32GiB')
        .requiredOption('--tenant <slug>', 'the tenant it is for')
        .option('--host <name>', 'place it on this host (default: placement picks one)')
        .option('--description <text>', 'what it is for')
        .addOption(new Option('--strategy <strategy>', 'how placement picks a host (default: control setting, spread)').choices(['spread', 'pack']))
        .option('--idempotency-key <key>', 'a retry with the same key returns the first result and never allocates twice'),
    ),
    'dcm allocations create --tenant torfaen vcpu=8 memory=32GiB --description "Revenues and benefits"',
    'dcm allocations create --tenant torfaen --host blv-c01 vcpu=4 memory=16GiB storage=2TiB',
  ).action(async (resourceArgs: string[], options: CreateOptions) => {
    const { tenant, host, description, strategy } = options;
    const allocation = await context
      .client()
      .createAllocation({ tenant, resources: parseResourceArgs(resourceArgs), host, description, strategy }, options.idempotencyKey);
    render(context.printer, options.output, allocation, allocationFields);
  });

  withExamples(
    withOutput(allocations.command('release').alias('delete').description('release an allocation, freeing its resources').argument('<id>')),
    'dcm allocations release 1b4e28ba-2fa1-11d2-883f-0016d3cca427',
  ).action(async (id: string, options: OutputOptions) => {
    render(context.printer, options.output, await context.client().releaseAllocation(id), allocationFields);
  });
}

function allocationTable(allocations: Allocation[]): string {
  return columns(
    ['id', 'tenant', 'host', 'site', 'status', 'created', 'resources'],
    allocations.map((allocation) => [
      allocation.id,
      allocation.tenant,
      allocation.host,
      allocation.site,
      allocation.status,
      when(allocation.createdAt),
      resources(allocation.resources),
    ]),
  );
}

function allocationFields(allocation: Allocation): string {
  return fields([
    ['ID', allocation.id],
    ['Tenant', allocation.tenant],
    ['Host', allocation.host],
    ['Site', allocation.site],
    ['Resources', resources(allocation.resources)],
    ['Description', allocation.description],
    ['Status', allocation.status],
    ['Created', when(allocation.createdAt)],
    ['Released', when(allocation.releasedAt)],
  ]);
}
