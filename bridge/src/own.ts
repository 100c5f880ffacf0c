/**
 * `record[key]` when `key` is the record's own property, else undefined. Records built from configuration or
 * input are plain objects, so a plain lookup of a name like `constructor` or `__proto__` finds Object.prototype's.
 */
export const own = <T>(record: Readonly<Record<string, T>>, key: string): T | undefined =>
  Object.hasOwn(record, key) ? record[key] : undefined;
