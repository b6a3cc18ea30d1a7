/**
 * The storage mounts an agent declared at enrolment (its facts, schema of @dcm/protocol): a report lists every
 * filesystem, and only these are storage. Read defensively: anything unreadable declares none.
 */
export function storageMountsOf(facts: unknown): Set<string> {
  const storage =
    typeof facts === 'object' && facts !== null && Array.isArray((facts as { storage?: unknown }).storage) ? (facts as { storage: unknown[] }).storage : [];
  return new Set(
    storage.flatMap((mount) =>
      typeof mount === 'object' && mount !== null && typeof (mount as { mountpoint?: unknown }).mountpoint === 'string'
        ? [(mount as { mountpoint: string }).mountpoint]
        : [],
    ),
  );
}
