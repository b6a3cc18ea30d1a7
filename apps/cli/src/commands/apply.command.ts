import { builtinUnitOf, formatAmount, type ResourceUnit } from '@dcm/domain';
import { Command } from 'commander';
import { ApiError, type DcmApiClient, type Host, type Inventory, type Tenant } from '../api-client';
import { CommandFailed, UsageError } from '../cli-config';
import { type AmountSpec, type FacilityFile, FacilityFileError, type HostSpec, type InventorySpec, loadFacilityFile, type TenantSpec } from '../facility-file';
import { type CommandContext, withExamples } from './command-context';

/** One change apply would make: what it says in the plan, and how it is made. */
export interface Change {
  verb: 'create' | 'update' | 'offboard' | 'decommission';
  kind: 'tenant' | 'host';
  name: string;
  details: string[];
  run(): Promise<void>;
}

interface ApplyOptions {
  file: string;
  dryRun?: boolean;
  prune?: boolean;
}

export function registerApply(program: Command, context: CommandContext): void {
  withExamples(
    program
      .command('apply')
      .description('make control match a facility file (hosts, inventories, tenants, quotas): create what is missing, update what differs')
      .requiredOption('-f, --file <file>', 'the facility file (YAML), e.g. config/facilities/blaenavon.yaml')
      .option('--dry-run', 'print the plan and change nothing')
      .option('--prune', 'also offboard tenants and decommission hosts that the file does not describe'),
    'dcm apply -f config/facilities/blaenavon.yaml --dry-run',
    'dcm apply -f config/facilities/blaenavon.yaml',
    'dcm apply -f config/facilities/blaenavon.yaml --prune',
  ).action(async (options: ApplyOptions) => {
    let file: FacilityFile;
    try {
      file = loadFacilityFile(options.file);
    } catch (error) {
      if (error instanceof FacilityFileError) throw new UsageError(error.message);
      throw error;
    }
    const client = context.client();
    const changes = await plan(file, client, options.prune === true);
    const { printer } = context;
    if (changes.length === 0) {
      printer.out('nothing to change\n');
      return;
    }
    if (options.dryRun) {
      for (const change of changes) printer.out(describe(change));
      printer.out(`${summary(changes, false)} (dry run: nothing was changed)\n`);
      return;
    }
    const failed: Change[] = [];
    const progress = context.progress(changes.length);
    // While a progress bar is drawn, what would be printed line by line waits until it is done.
    const report: { stream: 'out' | 'err'; text: string }[] = [];
    const print = (stream: 'out' | 'err', text: string) => (progress.drawn ? report.push({ stream, text }) : printer[stream](text));
    try {
      for (const [index, change] of changes.entries()) {
        progress.step(index, `${change.verb} ${change.kind} ${change.name}`);
        try {
          await change.run();
          print('out', describe(change));
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          failed.push(change);
          const { problem } = error;
          print(
            'err',
            `dcm: ${change.verb} ${change.kind} ${change.name}: ${problem.detail ?? problem.title ?? `HTTP ${problem.status}`}${problem.code ? ` (${problem.code})` : ''}\n`,
          );
        }
      }
    } finally {
      progress.stop();
      for (const { stream, text } of report) printer[stream](text);
    }
    const done = changes.filter((change) => !failed.includes(change));
    printer.out(`${summary(done, true)}\n`);
    if (failed.length > 0)
      throw new CommandFailed(
        `${failed.length} of ${changes.length} changes failed: ${failed.map((change) => `${change.verb} ${change.kind} ${change.name}`).join(', ')}`,
      );
  });
}

const SIGNS: Record<Change['verb'], string> = { create: '+', update: '~', offboard: '-', decommission: '-' };

function describe(change: Change): string {
  const head = `${SIGNS[change.verb]} ${change.verb} ${change.kind} ${change.name}`;
  return change.details.length === 0 ? `${head}\n` : `${head}: ${change.details.join('; ')}\n`;
}

function summary(changes: Change[], done: boolean): string {
  const count = (...verbs: Change['verb'][]) => changes.filter((change) => verbs.includes(change.verb)).length;
  const [create, update, remove] = [count('create'), count('update'), count('offboard', 'decommission')];
  return done ? `${create} created, ${update} updated, ${remove} deleted` : `${create} to create, ${update} to update, ${remove} to delete`;
}

/** Works out the changes, in an order control accepts: tenants first (hosts may be dedicated to them), deletions last. */
export async function plan(file: FacilityFile, client: DcmApiClient, prune: boolean): Promise<Change[]> {
  const tenants = new Map((await client.listTenants()).map((tenant) => [tenant.slug, tenant]));
  const hosts = new Map((await client.listHosts()).map((host) => [host.name, host]));
  const changes: Change[] = [];
  for (const spec of file.tenants) {
    const existing = tenants.get(spec.slug);
    const change = existing ? await tenantUpdate(spec, existing, client) : tenantCreate(spec, client);
    if (change) changes.push(change);
  }
  for (const spec of file.hosts) {
    const existing = hosts.get(spec.name);
    const change = existing ? hostUpdate(spec, existing, client) : hostCreate(spec, client);
    if (change) changes.push(change);
  }
  if (prune) {
    const hostNames = new Set(file.hosts.map((host) => host.name));
    for (const host of hosts.values()) {
      if (hostNames.has(host.name)) continue;
      changes.push({
        verb: 'decommission',
        kind: 'host',
        name: host.name,
        details: [`not in the file (site ${host.site})`],
        run: async () => void (await client.decommissionHost(host.name)),
      });
    }
    const slugs = new Set(file.tenants.map((tenant) => tenant.slug));
    for (const tenant of tenants.values()) {
      if (slugs.has(tenant.slug) || tenant.state === 'offboarded') continue;
      changes.push({
        verb: 'offboard',
        kind: 'tenant',
        name: tenant.slug,
        details: ['not in the file'],
        run: async () => void (await client.offboardTenant(tenant.slug)),
      });
    }
  }
  return changes;
}

function tenantCreate(spec: TenantSpec, client: DcmApiClient): Change {
  const details = [`name "${spec.name}"`, spec.isolation ?? 'shared', spec.classification ?? 'OFFICIAL'];
  if (spec.quotas) details.push(`quotas ${quotaText(spec.quotas)}`);
  return {
    verb: 'create',
    kind: 'tenant',
    name: spec.slug,
    details,
    async run() {
      await client.createTenant({ slug: spec.slug, name: spec.name, contact: spec.contact, isolation: spec.isolation, classification: spec.classification });
      if (spec.quotas) await client.replaceQuotas(spec.slug, quotaInput(spec.quotas));
    },
  };
}

async function tenantUpdate(spec: TenantSpec, existing: Tenant, client: DcmApiClient): Promise<Change | null> {
  const patch: Record<string, string> = {};
  const details: string[] = [];
  for (const field of ['name', 'contact', 'isolation', 'classification'] as const) {
    const wanted = spec[field];
    if (wanted === undefined || wanted === existing[field]) continue;
    patch[field] = wanted;
    details.push(`${field} "${existing[field]}" → "${wanted}"`);
  }
  let quotas: Record<string, AmountSpec> | undefined;
  if (spec.quotas) {
    const current = (await client.getQuotas(spec.slug)).quotas;
    const quotaDetails: string[] = [];
    for (const [resourceClass, wanted] of Object.entries(spec.quotas)) {
      const position = current[resourceClass];
      const unit = position?.unit ?? unitOf(resourceClass, wanted);
      if (!position) quotaDetails.push(`quota ${resourceClass} none → ${formatAmount(wanted.value, unit)}`);
      else if (position.limit !== wanted.value)
        quotaDetails.push(`quota ${resourceClass} ${formatAmount(position.limit, unit)} → ${formatAmount(wanted.value, unit)}`);
    }
    for (const [resourceClass, position] of Object.entries(current)) {
      if (!Object.hasOwn(spec.quotas, resourceClass)) quotaDetails.push(`quota ${resourceClass} ${formatAmount(position.limit, position.unit)} → none`);
    }
    if (quotaDetails.length > 0) {
      quotas = spec.quotas;
      details.push(...quotaDetails);
    }
  }
  if (details.length === 0) return null;
  return {
    verb: 'update',
    kind: 'tenant',
    name: spec.slug,
    details,
    async run() {
      if (Object.keys(patch).length > 0) await client.updateTenant(spec.slug, patch);
      if (quotas) await client.replaceQuotas(spec.slug, quotaInput(quotas));
    },
  };
}

function hostCreate(spec: HostSpec, client: DcmApiClient): Change {
  const details = [`site ${spec.site}`];
  if (spec.rack) details.push(`rack ${spec.rack}`);
  details.push(spec.accreditation ?? 'OFFICIAL');
  if (spec.dedicatedTenant) details.push(`dedicated to ${spec.dedicatedTenant}`);
  for (const [resourceClass, inventory] of Object.entries(spec.inventories ?? {})) {
    details.push(`${resourceClass} ${formatAmount(inventory.total.value, unitOf(resourceClass, inventory.total))}`);
  }
  const body: Record<string, unknown> = { name: spec.name, site: spec.site };
  if (spec.rack !== undefined && spec.rack !== null) body.rack = spec.rack;
  if (spec.labels !== undefined) body.labels = spec.labels;
  if (spec.accreditation !== undefined) body.accreditation = spec.accreditation;
  if (spec.dedicatedTenant !== undefined && spec.dedicatedTenant !== null) body.dedicatedTenant = spec.dedicatedTenant;
  if (spec.inventories)
    body.inventories = Object.fromEntries(Object.entries(spec.inventories).map(([resourceClass, inventory]) => [resourceClass, inventoryInput(inventory)]));
  return { verb: 'create', kind: 'host', name: spec.name, details, run: async () => void (await client.createHost(body)) };
}

const INVENTORY_FIELDS = ['total', 'reserved', 'minUnit', 'maxUnit', 'stepSize'] as const;

function hostUpdate(spec: HostSpec, existing: Host, client: DcmApiClient): Change | null {
  const patch: Record<string, unknown> = {};
  const details: string[] = [];
  const compare = (field: 'site' | 'rack' | 'accreditation' | 'dedicatedTenant', wanted: string | null | undefined) => {
    if (wanted === undefined || wanted === existing[field]) return;
    patch[field] = wanted;
    details.push(`${field} ${existing[field] ?? 'none'} → ${wanted ?? 'none'}`);
  };
  compare('site', spec.site);
  compare('rack', spec.rack);
  compare('accreditation', spec.accreditation);
  compare('dedicatedTenant', spec.dedicatedTenant);
  if (spec.labels !== undefined && !sameLabels(spec.labels, existing.labels)) {
    patch.labels = spec.labels;
    details.push(`labels ${labelText(existing.labels)} → ${labelText(spec.labels)}`);
  }
  const inventories: [string, InventorySpec][] = [];
  for (const [resourceClass, wanted] of Object.entries(spec.inventories ?? {})) {
    const current = existing.inventories[resourceClass];
    const differences = inventoryDifferences(resourceClass, wanted, current);
    if (differences.length === 0) continue;
    inventories.push([resourceClass, wanted]);
    details.push(...differences);
  }
  if (details.length === 0) return null;
  return {
    verb: 'update',
    kind: 'host',
    name: spec.name,
    details,
    async run() {
      if (Object.keys(patch).length > 0) await client.updateHost(spec.name, patch);
      for (const [resourceClass, inventory] of inventories) {
        await client.setInventory(spec.name, resourceClass, inventoryInput(inventory));
      }
    },
  };
}

function inventoryDifferences(resourceClass: string, wanted: InventorySpec, current: Inventory | undefined): string[] {
  const unit = current?.unit ?? unitOf(resourceClass, wanted.total);
  if (!current) return [`${resourceClass} none → ${formatAmount(wanted.total.value, unit)}`];
  const differences: string[] = [];
  for (const field of INVENTORY_FIELDS) {
    const value = wanted[field]?.value ?? (field === 'reserved' ? 0 : null);
    if (value === current[field]) continue;
    const show = (amount: number | null) => (amount === null ? 'none' : formatAmount(amount, unit));
    differences.push(`${resourceClass}.${field} ${show(current[field])} → ${show(value)}`);
  }
  if (wanted.allocationRatio !== current.allocationRatio)
    differences.push(`${resourceClass}.allocationRatio ${current.allocationRatio} → ${wanted.allocationRatio}`);
  return differences;
}

function inventoryInput(inventory: InventorySpec): Record<string, number | string> {
  const body: Record<string, number | string> = { total: inventory.total.input, allocationRatio: inventory.allocationRatio };
  for (const field of ['reserved', 'minUnit', 'maxUnit', 'stepSize'] as const) {
    const amount = inventory[field];
    if (amount) body[field] = amount.input;
  }
  return body;
}

function quotaInput(quotas: Record<string, AmountSpec>): Record<string, number | string> {
  return Object.fromEntries(Object.entries(quotas).map(([resourceClass, amount]) => [resourceClass, amount.input]));
}

function quotaText(quotas: Record<string, AmountSpec>): string {
  return Object.entries(quotas)
    .map(([resourceClass, amount]) => `${resourceClass}=${formatAmount(amount.value, unitOf(resourceClass, amount)).replace(' ', '')}`)
    .join(' ');
}

function unitOf(resourceClass: string, amount: AmountSpec): ResourceUnit {
  return builtinUnitOf(resourceClass) ?? (typeof amount.input === 'number' || /^\d+$/.test(amount.input) ? 'count' : 'bytes');
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key]);
}

function labelText(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  return entries.length === 0 ? '{}' : `{${entries.map(([key, value]) => `${key}=${value}`).join(', ')}}`;
}
