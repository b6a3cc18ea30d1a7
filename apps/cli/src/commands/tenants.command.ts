import { CLASSIFICATIONS, ISOLATIONS, OPERATOR_TENANT_STATES, TENANT_STATES } from '@dcm/domain';
import { Command, Option } from 'commander';
import type { Tenant, UpdateTenantRequest } from '../api-client';
import { UsageError } from '../cli-config';
import { columns, fields, render, when } from '../output';
import { type CommandContext, type OutputOptions, withExamples, withOutput } from './command-context';

interface TenantOptions extends OutputOptions {
  name?: string;
  contact?: string;
  isolation?: string;
  classification?: string;
  state?: string;
}

export function registerTenants(program: Command, context: CommandContext): void {
  const tenants = withExamples(
    program.command('tenants').description('onboard, list, change and offboard tenants'),
    'dcm tenants list',
    'dcm tenants create torfaen --name "Torfaen County Borough Council" --contact ict@torfaen.gov.uk',
  );

  withExamples(
    withOutput(tenants.command('list').description('list tenants')).addOption(
      new Option('--state <state>', 'only tenants in this state').choices(TENANT_STATES),
    ),
    'dcm tenants list',
    'dcm tenants list --state frozen -o json',
  ).action(async (options: TenantOptions) => {
    render(context.printer, options.output, await context.client().listTenants(options.state), tenantTable);
  });

  withExamples(withOutput(tenants.command('show').description('show one tenant').argument('<slug>')), 'dcm tenants show torfaen').action(
    async (slug: string, options: OutputOptions) => {
      render(context.printer, options.output, await context.client().getTenant(slug), tenantFields);
    },
  );

  withExamples(
    withTenantSettings(
      withOutput(tenants.command('create').description('onboard a tenant').argument('<slug>', 'immutable identifier, e.g. torfaen')).requiredOption(
        '--name <name>',
        'full name',
      ),
    ),
    'dcm tenants create gwent-police --name "Gwent Police" --isolation dedicated --classification OFFICIAL-SENSITIVE',
  ).action(async (slug: string, options: TenantOptions) => {
    const { name, contact, isolation, classification } = options;
    const tenant = await context.client().createTenant({ slug, name: name!, contact, isolation, classification });
    render(context.printer, options.output, tenant, tenantFields);
  });

  withExamples(
    withTenantSettings(withOutput(tenants.command('update').description('change a tenant (the slug is immutable)').argument('<slug>')))
      .option('--name <name>', 'full name')
      .addOption(new Option('--state <state>', 'freeze or unfreeze by hand (offboard with "tenants delete")').choices(OPERATOR_TENANT_STATES)),
    'dcm tenants update torfaen --contact servicedesk@torfaen.gov.uk',
    'dcm tenants update torfaen --state frozen',
  ).action(async (slug: string, options: TenantOptions) => {
    const { name, contact, isolation, classification, state } = options;
    const changes: UpdateTenantRequest = Object.fromEntries(
      Object.entries({ name, contact, isolation, classification, state }).filter(([, value]) => value !== undefined),
    );
    if (Object.keys(changes).length === 0) throw new UsageError('nothing to change: give --name, --contact, --isolation, --classification or --state');
    render(context.printer, options.output, await context.client().updateTenant(slug, changes), tenantFields);
  });

  withExamples(
    withOutput(tenants.command('delete').alias('offboard').description('offboard a tenant (refused while it has active allocations)').argument('<slug>')),
    'dcm tenants delete torfaen',
  ).action(async (slug: string, options: OutputOptions) => {
    render(context.printer, options.output, await context.client().offboardTenant(slug), tenantFields);
  });
}

function withTenantSettings(command: Command): Command {
  return command
    .option('--contact <contact>', 'who to call, e.g. ict@torfaen.gov.uk')
    .addOption(new Option('--isolation <isolation>', 'shared hosts, or only its own dedicated hosts').choices(ISOLATIONS))
    .addOption(new Option('--classification <classification>', 'the highest classification of its data').choices(CLASSIFICATIONS));
}

function tenantTable(tenants: Tenant[]): string {
  return columns(
    ['slug', 'state', 'isolation', 'classification', 'contact', 'name'],
    tenants.map((tenant) => [tenant.slug, tenant.state, tenant.isolation, tenant.classification, tenant.contact, tenant.name]),
  );
}

function tenantFields(tenant: Tenant): string {
  return fields([
    ['Slug', tenant.slug],
    ['Name', tenant.name],
    ['Contact', tenant.contact],
    ['State', tenant.state],
    ['Isolation', tenant.isolation],
    ['Classification', tenant.classification],
    ['Created', when(tenant.createdAt)],
    ['Updated', when(tenant.updatedAt)],
    ...(tenant.offboardedAt ? ([['Offboarded', when(tenant.offboardedAt)]] as [string, string][]) : []),
  ]);
}
