import { Command } from 'commander';
import type { Grant, ResourceInput } from '../api-client';
import { UsageError } from '../cli-config';
import { columns, fields, render, resources, when } from '../output';
import { parseResourceArgs } from '../resource-args';
import { type CommandContext, type OutputOptions, withExamples, withOutput } from './command-context';
import { duration, isoInstant } from './time-args';

interface CreateOptions extends OutputOptions {
  vcpu?: string;
  memory?: string;
  storage?: string;
  expires?: string;
  for?: number;
  reason: string;
}

export function registerGrants(program: Command, context: CommandContext): void {
  const grants = withExamples(
    program
      .command('grants')
      .alias('grant')
      .description("surge grants: a time-boxed increase of a tenant's quotas (an incident, a migration), with a reason, ended on time by control"),
    'dcm grant create torfaen --vcpu 32 --memory 64GiB --for 72h --reason "INC-4711: migration of the revenues database"',
    'dcm grants list torfaen',
  );

  withExamples(
    withOutput(grants.command('list').description("a tenant's active grants (all of them with --all)").argument('<tenant>')).option(
      '--all',
      'expired and revoked grants too',
    ),
    'dcm grants list torfaen',
    'dcm grants list torfaen --all -o json',
  ).action(async (tenant: string, options: OutputOptions & { all?: boolean }) => {
    render(context.printer, options.output, await context.client().listGrants(tenant, options.all === true), grantTable);
  });

  withExamples(
    withOutput(
      grants
        .command('create')
        .description('grant a tenant more than its quotas until an expiry; its limits are quota + active grants meanwhile')
        .argument('<tenant>', 'its slug')
        .argument('[resources...]', 'other classes as CLASS=AMOUNT, e.g. custom_gpu=2')
        .option('--vcpu <count>', 'extra vCPUs')
        .option('--memory <amount>', 'extra memory, e.g. 64GiB')
        .option('--storage <amount>', 'extra storage, e.g. 2TiB')
        .option('--expires <time>', 'when it ends: a date-time with a zone, e.g. 2026-12-01T18:00:00Z', isoInstant)
        .option('--for <duration>', 'or how long from now: 90m, 72h, 7d, 2w', duration)
        .requiredOption('--reason <text>', 'why, for the audit log: an incident or change number and what it is for'),
    ),
    'dcm grant create torfaen --vcpu 32 --memory 64GiB --for 72h --reason "INC-4711: migration of the revenues database"',
    'dcm grant create gwent-police --storage 10TiB --expires 2026-12-24T00:00:00Z --reason "CHG-0815: evidence archive move"',
  ).action(async (tenant: string, resourceArgs: string[], options: CreateOptions) => {
    const { vcpu, memory, storage } = options;
    const named = Object.entries({ vcpu, memory, storage })
      .filter(([, amount]) => amount !== undefined)
      .map(([resourceClass, amount]) => `${resourceClass}=${amount}`);
    if (named.length + resourceArgs.length === 0) throw new UsageError('grant at least one class: --vcpu, --memory, --storage or CLASS=AMOUNT');
    const grantResources: ResourceInput = parseResourceArgs([...named, ...resourceArgs]);
    if ((options.expires === undefined) === (options.for === undefined))
      throw new UsageError('give when it ends: --expires TIME or --for DURATION (one of them)');
    const expiresAt = options.expires ?? new Date(Date.now() + options.for!).toISOString();
    const grant = await context.client().createGrant(tenant, { resources: grantResources, expiresAt, reason: options.reason });
    render(context.printer, options.output, grant, grantFields);
  });

  withExamples(
    withOutput(grants.command('revoke').alias('delete').description('end a grant now; the tenant is back to its quotas').argument('<tenant>').argument('<id>')),
    'dcm grant revoke torfaen 5f1c7f0e-8a53-4c1e-9d2b-3f4a5b6c7d8e',
  ).action(async (tenant: string, id: string, options: OutputOptions) => {
    render(context.printer, options.output, await context.client().revokeGrant(tenant, id), grantFields);
  });
}

function grantTable(grants: Grant[]): string {
  if (grants.length === 0) return 'No grants.\n';
  return columns(
    ['id', 'state', 'resources', 'created', 'expires', 'ended', 'reason'],
    grants.map((grant) => [grant.id, grant.state, resources(grant.resources), when(grant.createdAt), when(grant.expiresAt), when(grant.endedAt), grant.reason]),
  );
}

function grantFields(grant: Grant): string {
  return fields([
    ['ID', grant.id],
    ['Tenant', grant.tenant],
    ['State', grant.state],
    ['Resources', resources(grant.resources)],
    ['Reason', grant.reason],
    ['Created by', grant.createdBy],
    ['Created', when(grant.createdAt)],
    ['Expires', when(grant.expiresAt)],
    ['Ended', when(grant.endedAt)],
  ]);
}
