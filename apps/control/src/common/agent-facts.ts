type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The storage mounts an agent declared at enrolment (its facts, schema of @dcm/protocol): a report lists every
 * filesystem, and only these are storage. Read defensively: anything unreadable declares none.
 */
export function storageMountsOf(facts: unknown): Set<string> {
  const storage = isObject(facts) && Array.isArray(facts.storage) ? (facts.storage as unknown[]) : [];
  return new Set(storage.flatMap((mount) => (isObject(mount) && typeof mount.mountpoint === 'string' ? [mount.mountpoint] : [])));
}
