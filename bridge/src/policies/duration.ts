const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;
const DURATION = /^([1-9]\d*)([smhd])$/;

export const DURATION_HINT = 'expected a duration like 30s, 15m, 2h, 1d';

// Every deadline is a date: beyond about a hundred years from now one would no longer be a valid one.
const MAX_DURATION_MS = 36_500 * UNIT_MS.d;

/** Milliseconds in a policy duration (`30s`, `15m`, `2h`, `1d`, at most 36500d), or null when the text is not one. */
export function parseDuration(text: string): number | null {
  const found = DURATION.exec(text.trim());
  const ms = found ? Number(found[1]) * UNIT_MS[found[2] as Unit] : null;
  return ms !== null && ms <= MAX_DURATION_MS ? ms : null;
}

/** A duration as people read it in messages and the audit trail: the largest unit that divides it (`8s`, `2m`, `1h`). */
export function formatDuration(ms: number): string {
  const [unit, size] = (Object.entries(UNIT_MS) as [Unit, number][]).reverse().find(([, size]) => ms % size === 0) ?? ['s', UNIT_MS.s];
  return `${Math.round(ms / size)}${unit}`;
}
