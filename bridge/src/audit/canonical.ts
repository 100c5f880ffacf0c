import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every depth, so the same value always hashes the same
 * whatever order its keys were built in. Inputs are plain JSON values (see `toJsonValue`).
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Round-trips through JSON so what is hashed is exactly what is stored and read back (Dates, undefined, ...). */
export function toJsonValue<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');
