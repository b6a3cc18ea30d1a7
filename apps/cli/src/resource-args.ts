import { builtinUnitOf, isValidResourceClassName, parseAmount } from '@dcm/domain';
import type { ResourceInput } from './api-client';
import { UsageError } from './cli-config';

/**
 * Reads `vcpu=8 memory=32GiB` arguments. Amounts are checked here with the domain's own parser so that a typo is a
 * usage error before anything is sent; byte amounts go to control as written, so that it does the exact conversion.
 */
export function parseResourceArgs(pairs: string[]): ResourceInput {
  if (pairs.length === 0) throw new UsageError('name at least one resource, e.g. vcpu=8 memory=32GiB');
  const resources: ResourceInput = {};
  for (const pair of pairs) {
    const separator = pair.indexOf('=');
    if (separator <= 0) throw new UsageError(`"${pair}" should be CLASS=AMOUNT, e.g. vcpu=8 or memory=32GiB`);
    const resourceClass = pair.slice(0, separator);
    const text = pair.slice(separator + 1);
    if (!isValidResourceClassName(resourceClass)) {
      throw new UsageError(`"${resourceClass}" is not a resource class: vcpu, memory, storage or custom_<name>`);
    }
    if (Object.hasOwn(resources, resourceClass)) throw new UsageError(`${resourceClass} is given twice`);
    const parsed = parseAmount(text, builtinUnitOf(resourceClass) ?? (/^\d+$/.test(text) ? 'count' : 'bytes'));
    if (!parsed.ok) throw new UsageError(`${resourceClass}=${text}: the amount ${parsed.reason}`);
    resources[resourceClass] = /^\d+$/.test(text) ? parsed.value : text;
  }
  return resources;
}
