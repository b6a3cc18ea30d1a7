import { readFileSync } from 'node:fs';
import {
  builtinUnitOf,
  CLASSIFICATIONS,
  type Classification,
  defaultAllocationRatio,
  HOST_NAME_PATTERN,
  type Isolation,
  ISOLATIONS,
  isValidResourceClassName,
  parseAmount,
  type ResourceUnit,
  SLUG_PATTERN,
} from '@dcm/domain';
import { parseDocument } from 'yaml';
import { z } from 'zod';

/**
 * A facility file, as `dcm apply -f` reads it: the hosts of a facility with their inventories, and the tenants with their
 * quotas. Amounts may be integers in the class's unit or, for bytes, strings such as "512GiB"; they are parsed here with
 * the domain's own parser so that they can be compared with what control answers (bytes as numbers).
 */
export interface FacilityFile {
  tenants: TenantSpec[];
  hosts: HostSpec[];
}

/** An amount as written in the file (sent to control as is) and as parsed (compared with control's figures). */
export interface AmountSpec {
  input: number | string;
  value: number;
}

export interface TenantSpec {
  slug: string;
  name: string;
  contact?: string;
  isolation?: Isolation;
  classification?: Classification;
  /** Absent: apply leaves the tenant's quotas alone; present: they become exactly these. */
  quotas?: Record<string, AmountSpec>;
}

export interface InventorySpec {
  total: AmountSpec;
  reserved: AmountSpec | null;
  allocationRatio: number;
  minUnit: AmountSpec | null;
  maxUnit: AmountSpec | null;
  stepSize: AmountSpec | null;
}

export interface HostSpec {
  name: string;
  site: string;
  rack?: string | null;
  labels?: Record<string, string>;
  accreditation?: Classification;
  dedicatedTenant?: string | null;
  /** Classes not named are left alone; a named class's inventory becomes exactly this (omitted fields take their defaults). */
  inventories?: Record<string, InventorySpec>;
}

/** The file cannot be applied; carries every problem, each as `path: reason`. */
export class FacilityFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(
      `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}, nothing was changed:\n${problems.map((problem) => `  ${problem}`).join('\n')}`,
    );
  }
}

const SLUG = SLUG_PATTERN;
const HOST_NAME = HOST_NAME_PATTERN;
const LABEL_KEY = /^[A-Za-z0-9._/-]{1,63}$/;

const amountInput = z.union([z.number(), z.string()], { error: 'must be an integer or a string such as "512GiB"' });
const resourceClass = z.string().refine(isValidResourceClassName, { error: 'is not a resource class: vcpu, memory, storage or custom_<name>' });

const inventorySchema = z.strictObject({
  total: amountInput,
  reserved: amountInput.optional(),
  allocationRatio: z.number().positive().max(1000).optional(),
  minUnit: amountInput.optional(),
  maxUnit: amountInput.optional(),
  stepSize: amountInput.optional(),
});

const hostSchema = z.strictObject({
  name: z.string().regex(HOST_NAME, 'must be 1–63 characters of a-z, 0-9, ".", "_" and "-", starting with a letter or digit'),
  site: z.string().regex(SLUG, 'must be 2–63 characters of a-z, 0-9 and -'),
  rack: z.string().max(63).nullable().optional(),
  labels: z
    .record(z.string().regex(LABEL_KEY, 'label keys are 1–63 characters of A-Z, a-z, 0-9, ".", "_", "/" and "-"'), z.string().max(255))
    .refine((labels) => Object.keys(labels).length <= 32, { error: 'at most 32 labels' })
    .optional(),
  accreditation: z.enum(CLASSIFICATIONS).optional(),
  dedicatedTenant: z.string().regex(SLUG, 'must be a tenant slug').nullable().optional(),
  inventories: z.record(resourceClass, inventorySchema).optional(),
});

const tenantSchema = z.strictObject({
  slug: z.string().regex(SLUG, 'must be 2–63 characters of a-z, 0-9 and -, starting with a letter or digit'),
  name: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  contact: z.string().max(320).optional(),
  isolation: z.enum(ISOLATIONS).optional(),
  classification: z.enum(CLASSIFICATIONS).optional(),
  quotas: z.record(resourceClass, amountInput).optional(),
});

const fileSchema = z.strictObject({
  /** Free text for people (which facility, who owns the file); apply ignores it. */
  facility: z.record(z.string(), z.unknown()).optional(),
  tenants: z.array(tenantSchema).default([]),
  hosts: z.array(hostSchema).default([]),
});

/** Reads and checks a facility file; throws FacilityFileError naming every problem. */
export function loadFacilityFile(path: string): FacilityFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new FacilityFileError(path, [`cannot read the file: ${(error as Error).message}`]);
  }
  return parseFacilityFile(text, path);
}

/** Parses and checks the text of a facility file; `source` names it in errors. */
export function parseFacilityFile(text: string, source = 'facility file'): FacilityFile {
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0)
    throw new FacilityFileError(
      source,
      document.errors.map((error) => `YAML: ${error.message.split('\n', 1)[0]}`),
    );
  const raw: unknown = document.toJS() ?? {};
  const problems: string[] = [];
  const result = fileSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const at = formatPath(issue.path);
      if (issue.code === 'unrecognized_keys') for (const key of issue.keys) problems.push(`${formatPath([...issue.path, key])}: is not a known field`);
      else if (issue.code === 'invalid_key') problems.push(`${at}: ${issue.issues[0]?.message ?? issue.message}`);
      else problems.push(`${at || '(file)'}: ${issue.message}`);
    }
  }
  // Amounts, units and cross-field rules are checked on the raw document, so that they are reported with the shape errors.
  const parsed = checkSemantics(raw, problems);
  if (problems.length > 0 || !result.success) throw new FacilityFileError(source, [...new Set(problems)]);
  return parsed;
}

/** `hosts[3].inventories.memory.total`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : text === '' ? String(key) : `${text}.${String(key)}`), '');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A custom class's unit is declared in control; in the file, plain numbers read as counts and suffixed strings as bytes. */
function unitFor(resourceClass: string, input: unknown): ResourceUnit {
  return builtinUnitOf(resourceClass) ?? (typeof input === 'number' || (typeof input === 'string' && /^\d+$/.test(input)) ? 'count' : 'bytes');
}

function amount(input: unknown, resourceClass: string, path: string, problems: string[]): AmountSpec | null {
  if (typeof input !== 'number' && typeof input !== 'string') return null; // the shape check has reported it
  const parsed = parseAmount(input, unitFor(resourceClass, input));
  if (!parsed.ok) {
    problems.push(`${path}: ${parsed.reason}`);
    return null;
  }
  return { input, value: parsed.value };
}

function checkSemantics(raw: unknown, problems: string[]): FacilityFile {
  const file: FacilityFile = { tenants: [], hosts: [] };
  if (!isRecord(raw)) return file;
  const tenantSlugs = new Map<string, number>();
  if (Array.isArray(raw.tenants)) {
    raw.tenants.forEach((tenant: unknown, index) => {
      if (!isRecord(tenant)) return;
      const at = `tenants[${index}]`;
      if (typeof tenant.slug === 'string') {
        const first = tenantSlugs.get(tenant.slug);
        if (first !== undefined) problems.push(`${at}.slug: ${tenant.slug} is already described at tenants[${first}]`);
        else tenantSlugs.set(tenant.slug, index);
      }
      let quotas: Record<string, AmountSpec> | undefined;
      if (isRecord(tenant.quotas)) {
        quotas = {};
        for (const [resourceClass, input] of Object.entries(tenant.quotas)) {
          const parsed = isValidResourceClassName(resourceClass) ? amount(input, resourceClass, `${at}.quotas.${resourceClass}`, problems) : null;
          if (parsed) quotas[resourceClass] = parsed;
        }
      }
      file.tenants.push({ ...(tenant as unknown as TenantSpec), ...(quotas ? { quotas } : {}) });
    });
  }
  const hostNames = new Map<string, number>();
  if (Array.isArray(raw.hosts)) {
    raw.hosts.forEach((host: unknown, index) => {
      if (!isRecord(host)) return;
      const at = `hosts[${index}]`;
      if (typeof host.name === 'string') {
        const first = hostNames.get(host.name);
        if (first !== undefined) problems.push(`${at}.name: ${host.name} is already described at hosts[${first}]`);
        else hostNames.set(host.name, index);
      }
      let inventories: Record<string, InventorySpec> | undefined;
      if (isRecord(host.inventories)) {
        inventories = {};
        for (const [resourceClass, inventory] of Object.entries(host.inventories)) {
          if (!isValidResourceClassName(resourceClass) || !isRecord(inventory)) continue;
          const parsed = checkInventory(inventory, resourceClass, `${at}.inventories.${resourceClass}`, problems);
          if (parsed) inventories[resourceClass] = parsed;
        }
      }
      file.hosts.push({ ...(host as unknown as HostSpec), ...(inventories ? { inventories } : {}) });
    });
  }
  // A host dedicated to a tenant of the file must be accredited for that tenant's classification.
  const classifications = new Map<string, Classification>();
  for (const tenant of file.tenants) if (typeof tenant.slug === 'string') classifications.set(tenant.slug, tenant.classification ?? 'OFFICIAL');
  file.hosts.forEach((host, index) => {
    const needed = typeof host.dedicatedTenant === 'string' ? classifications.get(host.dedicatedTenant) : undefined;
    const accreditation = host.accreditation ?? 'OFFICIAL';
    if (needed && CLASSIFICATIONS.includes(accreditation) && CLASSIFICATIONS.indexOf(accreditation) < CLASSIFICATIONS.indexOf(needed)) {
      problems.push(`hosts[${index}].accreditation: ${accreditation} cannot hold data of ${host.dedicatedTenant}, which is ${needed}`);
    }
  });
  return file;
}

function checkInventory(inventory: Record<string, unknown>, resourceClass: string, at: string, problems: string[]): InventorySpec | null {
  const before = problems.length;
  const field = (name: string) => (inventory[name] === undefined ? null : amount(inventory[name], resourceClass, `${at}.${name}`, problems));
  const spec: InventorySpec = {
    total: field('total') ?? { input: 0, value: 0 },
    reserved: field('reserved'),
    allocationRatio: typeof inventory.allocationRatio === 'number' ? inventory.allocationRatio : defaultAllocationRatio(resourceClass),
    minUnit: field('minUnit'),
    maxUnit: field('maxUnit'),
    stepSize: field('stepSize'),
  };
  if (problems.length > before) return null;
  if (spec.reserved && spec.reserved.value > spec.total.value) problems.push(`${at}.reserved: must not exceed total`);
  if (spec.minUnit && spec.maxUnit && spec.minUnit.value > spec.maxUnit.value) problems.push(`${at}.minUnit: must not exceed maxUnit`);
  if (spec.stepSize && spec.stepSize.value < 1) problems.push(`${at}.stepSize: must be at least 1`);
  return problems.length > before ? null : spec;
}
