/** Reads a record by a key that may come from user input, so "constructor" or "__proto__" never reach the prototype. */
export function ownProperty<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
