import { Command } from 'commander';
import type { ResourceInput, TenantQuotas } from '../api-client';
import { amount, columns, render } from '../output';
import { parseResourceArgs } from '../resource-args';
import { type CommandContext, type OutputOptions, withExamples, withOutput } from './command-context';

export function registerQuotas(program: Command, context: CommandContext): void {
  const quotas = withExamples(
    program.command('quotas').description("a tenant's quotas: what it was promised, given and uses"),
    'dcm quotas show torfaen',
    'dcm quotas set torfaen vcpu=64 memory=256GiB storage=20TiB',
  );

  withExamples(
    withOutput(quotas.command('show').description('per class: limit, allocated, used, available and state').argument('<tenant>')),
    'dcm quotas show torfaen',
  ).action(async (tenant: string, options: OutputOptions) => {
    render(context.printer, options.output, await context.client().getQuotas(tenant), quotaTable);
  });

  withExamples(
    withOutput(
      quotas
        .command('set')
        .description('set quota limits; classes not named keep their limits unless --replace')
        .argument('<tenant>')
        .argument('<limits...>', 'CLASS=AMOUNT, e.g. vcpu=64 memory=256GiB storage=20TiB')
        .option('--replace', "replace all the tenant's quotas with these (a class not named then has none, so cannot be allocated)"),
    ),
    'dcm quotas set torfaen vcpu=64 memory=256GiB',
    'dcm quotas set torfaen --replace vcpu=32 memory=128GiB storage=10TiB',
  ).action(async (tenant: string, limits: string[], options: OutputOptions & { replace?: boolean }) => {
    const changes = parseResourceArgs(limits);
    const client = context.client();
    // The API replaces the whole set; keep the limits of the classes not named, as "set" promises.
    const kept: ResourceInput = options.replace
      ? {}
      : Object.fromEntries(Object.entries((await client.getQuotas(tenant)).quotas).map(([resourceClass, position]) => [resourceClass, position.limit]));
    render(context.printer, options.output, await client.replaceQuotas(tenant, { ...kept, ...changes }), quotaTable);
  });
}

function quotaTable(quotas: TenantQuotas): string {
  // Grant columns only while a surge grant is active: the usual view stays narrow.
  const granted = Object.values(quotas.quotas).some((position) => (position.granted ?? 0) > 0);
  const rows = Object.entries(quotas.quotas).map(([resourceClass, position]) => [
    resourceClass,
    amount(position.limit, position.unit),
    ...(granted ? [amount(position.granted ?? 0, position.unit), amount(position.effectiveLimit ?? position.limit, position.unit)] : []),
    amount(position.allocated, position.unit),
    amount(position.used, position.unit),
    amount(position.available, position.unit),
    position.state,
  ]);
  if (rows.length === 0) return `${quotas.tenant} has no quotas, so nothing can be allocated to it; set some with "dcm quotas set ${quotas.tenant} …"\n`;
  return columns(['resource', 'limit', ...(granted ? ['granted', 'effective limit'] : []), 'allocated', 'used', 'available', 'state'], rows);
}
