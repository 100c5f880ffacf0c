import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far a signed request's timestamp may be from now, either way: replays older than this are refused outright. */
export const TIMESTAMP_TOLERANCE_S = 5 * 60;

export const hmacHex = (secret: string, data: string | Buffer): string => createHmac('sha256', secret).update(data).digest('hex');

/** Constant-time comparison of two signature strings (lengths differing is not secret). */
export function sameSignature(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether a unix-seconds timestamp header is a number within the tolerance of `now`. */
export function freshTimestamp(header: string | undefined, now: Date): boolean {
  if (!header || !/^\d{1,12}$/.test(header)) return false;
  return Math.abs(now.getTime() / 1000 - Number(header)) <= TIMESTAMP_TOLERANCE_S;
}
