import { builtinUnitOf, CLASSIFICATIONS, HOST_STATUSES, isValidResourceClassName, OPERATOR_HOST_STATUSES, parseAmount, type ResourceUnit } from '@dcm/domain';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Host, Inventory } from '../api-client';
import { UsageError } from '../cli-config';
import { amount, columns, fields, render, when } from '../output';
import { parseResourceArgs } from '../resource-args';
import { type CommandContext, type OutputOptions, withExamples, withOutput } from './command-context';

const SUMMARY_CLASSES = ['vcpu', 'memory', 'storage'];

interface CreateOptions extends OutputOptions {
  site: string;
  rack?: string;
  label?: Record<string, string>;
  accreditation?: string;
  dedicatedTenant?: string;
  status?: string;
}

interface UpdateOptions extends OutputOptions {
  site?: string;
  /** false: --no-rack. */
  rack?: string | false;
  label?: Record<string, string>;
  unlabel?: string[];
  accreditation?: string;
  /** false: --no-dedicated-tenant. */
  dedicatedTenant?: string | false;
  status?: string;
}

interface InventoryOptions extends OutputOptions {
  total?: string;
  reserved?: string;
  ratio?: number;
  minUnit?: string;
  maxUnit?: string;
  stepSize?: string;
}

export function registerHosts(program: Command, context: CommandContext): void {
  const hosts = withExamples(program.command('hosts').description('hosts, their status and inventories'), 'dcm hosts list', 'dcm hosts show blv-c01');

  withExamples(
    withOutput(hosts.command('list').description('list hosts with allocated/capacity per class'))
      .option('--site <site>', 'only hosts of this site')
      .addOption(new Option('--status <status>', 'only hosts with this status').choices(HOST_STATUSES)),
    'dcm hosts list',
    'dcm hosts list --site blv-hall-a --status down',
  ).action(async (options: OutputOptions & { site?: string; status?: string }) => {
    render(context.printer, options.output, await context.client().listHosts({ site: options.site, status: options.status }), hostTable);
  });

  withExamples(withOutput(hosts.command('show').description('show a host and its inventories').argument('<name>')), 'dcm hosts show blv-c01').action(
    async (name: string, options: OutputOptions) => {
      render(context.printer, options.output, await context.client().getHost(name), hostDetails);
    },
  );

  withExamples(
    withPlacementSettings(
      withOutput(
        hosts
          .command('create')
          .description('register a host (one without an agent, or before its agent enrols) with its inventories')
          .argument('<name>', 'e.g. blv-c01')
          .argument('[inventories...]', 'CLASS=TOTAL, e.g. vcpu=64 memory=512GiB storage=20TiB (reserve and overcommit with "hosts set-inventory")')
          .requiredOption('--site <site>', 'its site, e.g. blv-hall-a')
          .option('--rack <rack>', 'its rack, e.g. a03'),
      ),
    ),
    'dcm hosts create blv-c01 --site blv-hall-a --rack a03 vcpu=64 memory=512GiB storage=20TiB',
    'dcm hosts create blv-p01 --site blv-hall-b --accreditation SECRET --dedicated-tenant gwent-police --label model=R760',
  ).action(async (name: string, inventoryArgs: string[], options: CreateOptions) => {
    const { site, rack, accreditation, dedicatedTenant, status } = options;
    const inventories =
      inventoryArgs.length === 0
        ? undefined
        : Object.fromEntries(Object.entries(parseResourceArgs(inventoryArgs)).map(([resourceClass, total]) => [resourceClass, { total }]));
    const labels = options.label;
    const host = await context.client().createHost(defined({ name, site, rack, labels, accreditation, dedicatedTenant, status, inventories }));
    render(context.printer, options.output, host, hostDetails);
  });

  withExamples(
    // Each --no-x after its --x: defined first, commander would default x to true.
    withPlacementSettings(
      withOutput(
        hosts
          .command('update')
          .description('change where a host is and what it may hold, or take it out of placement for maintenance')
          .argument('<name>')
          .option('--site <site>', 'move it to this site')
          .option('--rack <rack>', 'its rack')
          .option('--no-rack', 'forget its rack'),
      ),
    )
      .option('--unlabel <key>', 'remove a label (repeatable)', (key: string, keys: string[] = []) => [...keys, key])
      .option('--no-dedicated-tenant', 'make it a shared host again'),
    'dcm hosts update blv-c01 --status maintenance',
    'dcm hosts update blv-c01 --site blv-hall-b --rack b07 --label model=R760 --unlabel spare',
    'dcm hosts update blv-p01 --no-dedicated-tenant',
  ).action(async (name: string, options: UpdateOptions) => {
    const client = context.client();
    const { site, accreditation, status } = options;
    const rack = options.rack === false ? null : options.rack;
    const dedicatedTenant = options.dedicatedTenant === false ? null : options.dedicatedTenant;
    // The API replaces the labels as a whole; change only those named, as the options promise.
    const { label: set = {}, unlabel = [] } = options;
    const labels =
      options.label || options.unlabel
        ? Object.fromEntries(Object.entries({ ...(await client.getHost(name)).labels, ...set }).filter(([key]) => !unlabel.includes(key)))
        : undefined;
    const changes = defined({ site, rack, labels, accreditation, dedicatedTenant, status });
    if (Object.keys(changes).length === 0) {
      throw new UsageError('nothing to change: give --site, --rack, --label, --unlabel, --accreditation, --dedicated-tenant or --status');
    }
    render(context.printer, options.output, await client.updateHost(name, changes), hostDetails);
  });

  withExamples(
    withOutput(
      hosts
        .command('set-inventory')
        .description('set one inventory of a host; figures not given keep their current values (capacity = floor((total − reserved) × ratio))')
        .argument('<name>')
        .argument('<class>', 'vcpu, memory, storage or custom_<name>')
        .option('--total <amount>', 'the whole amount, e.g. 64 or 512GiB (agents report it for vcpu, memory and storage)')
        .option('--reserved <amount>', 'kept back for the host itself, e.g. 16GiB')
        .option('--ratio <ratio>', 'overcommit factor (defaults: vcpu 4, memory 1, storage 1)', positiveNumber)
        .option('--min-unit <amount>', 'smallest single allocation, or none')
        .option('--max-unit <amount>', 'largest single allocation, or none')
        .option('--step-size <amount>', 'allocations must be multiples of this, or none'),
    ),
    'dcm hosts set-inventory blv-c01 memory --reserved 16GiB',
    'dcm hosts set-inventory blv-c01 vcpu --total 64 --reserved 4 --ratio 2',
    'dcm hosts set-inventory blv-g01 custom_gpu --total 8 --max-unit 4',
  ).action(async (name: string, resourceClass: string, options: InventoryOptions) => {
    if (!isValidResourceClassName(resourceClass)) throw new UsageError(`"${resourceClass}" is not a resource class: vcpu, memory, storage or custom_<name>`);
    const client = context.client();
    const current = (await client.getHost(name)).inventories[resourceClass];
    const unit =
      current?.unit ?? builtinUnitOf(resourceClass) ?? guessUnit([options.total, options.reserved, options.minUnit, options.maxUnit, options.stepSize]);
    const given = {
      total: checkedAmount('--total', options.total, unit),
      reserved: checkedAmount('--reserved', options.reserved, unit),
      allocationRatio: options.ratio,
      minUnit: checkedAmount('--min-unit', options.minUnit, unit, true),
      maxUnit: checkedAmount('--max-unit', options.maxUnit, unit, true),
      stepSize: checkedAmount('--step-size', options.stepSize, unit, true),
    };
    if (Object.values(given).every((value) => value === undefined)) {
      throw new UsageError('nothing to set: give --total, --reserved, --ratio, --min-unit, --max-unit or --step-size');
    }
    if (!current && given.total === undefined) throw new UsageError(`${name} has no ${resourceClass} inventory yet: give --total`);
    // PUT replaces the whole inventory: start from the current figures so that those not given stay as they are.
    const kept = current
      ? {
          total: current.total,
          reserved: current.reserved,
          allocationRatio: current.allocationRatio,
          minUnit: current.minUnit,
          maxUnit: current.maxUnit,
          stepSize: current.stepSize,
        }
      : {};
    // A bound left out is none: that is how "none" clears one.
    const body = Object.fromEntries(Object.entries({ ...kept, ...defined(given) }).filter(([, value]) => value !== null));
    render(context.printer, options.output, await client.setInventory(name, resourceClass, body), hostDetails);
  });

  withExamples(
    withOutput(hosts.command('accept').description('accept an enrolled host: placement may then use it').argument('<name>')),
    'dcm hosts accept blv-c13',
  ).action(async (name: string, options: OutputOptions) => {
    render(context.printer, options.output, await context.client().updateHost(name, { accepted: true }), hostDetails);
  });

  withExamples(
    withOutput(
      hosts
        .command('bind')
        .description("let a host's agent report a tenant's use there without an allocation (e.g. storage it keeps on the host)")
        .argument('<name>')
        .argument('<tenant>', 'the tenant slug'),
    ),
    'dcm hosts bind blv-c01 torfaen',
  ).action(async (name: string, slug: string, options: OutputOptions) => {
    render(context.printer, options.output, await context.client().bindTenant(name, slug), hostDetails);
  });

  withExamples(
    withOutput(
      hosts
        .command('unbind')
        .description("end a tenant's binding to a host: its use there is then taken only while it holds an active allocation on it")
        .argument('<name>')
        .argument('<tenant>', 'the tenant slug'),
    ),
    'dcm hosts unbind blv-c01 torfaen',
  ).action(async (name: string, slug: string, options: OutputOptions) => {
    render(context.printer, options.output, await context.client().unbindTenant(name, slug), hostDetails);
  });

  withExamples(
    withOutput(
      hosts
        .command('decommission')
        .alias('delete')
        .description('decommission a host: it leaves placement and metrics; refused while it has active allocations')
        .argument('<name>'),
    ),
    'dcm hosts decommission blv-c01',
  ).action(async (name: string, options: OutputOptions) => {
    render(context.printer, options.output, await context.client().decommissionHost(name), hostDetails);
  });
}

/** Options shared by create and update: what the host may hold and whether placement may use it. */
function withPlacementSettings(command: Command): Command {
  return command
    .option('--label <key=value>', 'set a label (repeatable)', label)
    .addOption(new Option('--accreditation <classification>', 'the highest classification it may hold (default OFFICIAL)').choices(CLASSIFICATIONS))
    .option('--dedicated-tenant <slug>', 'the only tenant it may serve')
    .addOption(new Option('--status <status>', 'maintenance takes it out of placement; up puts it back').choices(OPERATOR_HOST_STATUSES));
}

function label(pair: string, labels: Record<string, string> = {}): Record<string, string> {
  const separator = pair.indexOf('=');
  if (separator <= 0) throw new InvalidArgumentError(`"${pair}" should be KEY=VALUE, e.g. model=R760`);
  return { ...labels, [pair.slice(0, separator)]: pair.slice(separator + 1) };
}

function positiveNumber(value: string): number {
  const parsed = Number(value);
  if (!/^\d*\.?\d+$/.test(value) || parsed <= 0) throw new InvalidArgumentError('must be a number greater than 0, e.g. 4 or 1.5');
  return parsed;
}

/** The figures given, without those not given (undefined); null stays (it clears a bound). */
function defined<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** A custom class control does not know on this host yet: digits alone are a count, anything else bytes. */
function guessUnit(texts: (string | undefined)[]): ResourceUnit {
  return texts.every((text) => text === undefined || text === 'none' || /^\d+$/.test(text)) ? 'count' : 'bytes';
}

/** An amount option checked with the domain's parser; sent as typed, so that control does the exact conversion. */
function checkedAmount(option: string, text: string | undefined, unit: ResourceUnit, clearable = false): number | string | null | undefined {
  if (text === undefined) return undefined;
  if (clearable && text === 'none') return null;
  const parsed = parseAmount(text, unit);
  if (!parsed.ok) throw new UsageError(`${option} ${text}: the amount ${parsed.reason}`);
  return /^\d+$/.test(text) ? parsed.value : text;
}

function hostTable(hosts: Host[]): string {
  return columns(
    [
      'name',
      'site',
      'rack',
      'status',
      'accepted',
      'origin',
      'accreditation',
      ...SUMMARY_CLASSES.map((resourceClass) => `${resourceClass} alloc/cap`),
      'last report',
    ],
    hosts.map((host) => [
      host.name,
      host.site,
      host.rack,
      host.status,
      host.accepted ? 'yes' : 'no',
      host.origin,
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
  const rises = Object.entries(host.inventories)
    .filter(([, inventory]) => inventory.measuredTotal !== null && inventory.measuredTotal > inventory.total)
    .map(([resourceClass, inventory]) => `${resourceClass} ${amount(inventory.measuredTotal, inventory.unit)}`);
  const summary = fields([
    ['Name', host.name],
    ['Site', host.site],
    ['Rack', host.rack],
    ['Status', host.status],
    ['Accepted', host.accepted ? 'yes' : 'no: not placeable until "dcm hosts accept"'],
    [
      'Inventory',
      host.origin === 'operator'
        ? "operator's (agent totals only shown)"
        : 'its agent\'s (follows measurements until accepted; then falls apply, rises wait for "dcm hosts accept")',
    ],
    ...(host.origin === 'agent' && host.accepted && rises.length > 0
      ? ([['Measured rise', `${rises.join(', ')}: not applied until "dcm hosts accept ${host.name}"`]] as [string, string][])
      : []),
    ['Over-committed', host.overcommitted ? 'yes: more allocated than capacity, not placeable' : 'no'],
    ['Accreditation', host.accreditation],
    ['Dedicated to', host.dedicatedTenant],
    ['Labels', labels],
    ...(host.boundTenants ? ([['Bound tenants', host.boundTenants.join(', ')]] as [string, string][]) : []),
    ['Agent', host.agentId],
    ['Last report', when(host.lastReportAt)],
    ['Created', when(host.createdAt)],
  ]);
  const inventories = columns(
    ['resource', 'total', 'measured', 'reserved', 'ratio', 'capacity', 'allocated', 'free', 'min unit', 'max unit', 'step size'],
    Object.entries(host.inventories).map(([resourceClass, inventory]) => [
      resourceClass,
      amount(inventory.total, inventory.unit),
      inventory.measuredTotal === null ? null : amount(inventory.measuredTotal, inventory.unit),
      amount(inventory.reserved, inventory.unit),
      inventory.allocationRatio,
      amount(inventory.capacity, inventory.unit),
      amount(inventory.allocated, inventory.unit),
      inventory.overcommitted ? `${amount(inventory.free, inventory.unit)} (over-committed)` : amount(inventory.free, inventory.unit),
      amount(inventory.minUnit, inventory.unit),
      amount(inventory.maxUnit, inventory.unit),
      amount(inventory.stepSize, inventory.unit),
    ]),
  );
  return `${summary}\n${inventories}`;
}
