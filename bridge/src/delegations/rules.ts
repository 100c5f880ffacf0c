import type { PolicySet } from '../policies/index.js';
import type { Delegation } from './schemas.js';
import type { DelegationRecord } from './store.js';

/** The id of the policies file's Nth delegation (they are not stored, so they have no id of their own). */
export const fileDelegationId = (index: number) => `policies-file:${index}`;

/** The policies file's delegations as records; one without `starts_at` holds from the start until `ends_at`. */
export function fileDelegations(set: PolicySet): DelegationRecord[] {
  return set.delegations.map((d, i) => ({
    id: fileDelegationId(i),
    from: d.from,
    to: d.to,
    starts_at: d.starts_at ?? new Date(0).toISOString(),
    ends_at: d.ends_at,
    policies: d.policies ?? null,
    reason: d.reason ?? null,
    source: 'policies_file',
    created_at: null,
    revoked_at: null,
    revoked_by: null,
  }));
}

export function stateOf(d: DelegationRecord, at: string): Delegation['state'] {
  if (d.revoked_at !== null) return 'revoked';
  const now = Date.parse(at);
  if (Date.parse(d.ends_at) <= now) return 'ended';
  return Date.parse(d.starts_at) > now ? 'scheduled' : 'active';
}

/** Whether `d` lets its deputy vote for its delegator at `at` on an approval under `policy`. */
export function applies(d: DelegationRecord, policy: string | null, at: string): boolean {
  return stateOf(d, at) === 'active' && policy !== null && (d.policies === null || d.policies.includes(policy));
}

/** A vote as the seat rule sees it: who cast it and whose seat it filled. */
export interface SeatedVote {
  readonly user: string;
  readonly on_behalf_of: string | null;
}

export const seatOf = (v: SeatedVote): string => v.on_behalf_of ?? v.user;

/**
 * The one-seat rule, over every vote of one approval: a person holds one seat (their own, or one delegator's) and a
 * seat is filled by one person. So nobody votes twice through a delegation: not as themselves and as a deputy,
 * not as deputy for two people, and not in a seat someone else already voted in. Null when `voter` may fill `seat`.
 */
export function seatConflict(votes: readonly SeatedVote[], voter: string, seat: string): { code: 'one_seat' | 'seat_taken'; message: string } | null {
  const mine = votes.find((v) => v.user === voter && seatOf(v) !== seat);
  if (mine) {
    const as = mine.on_behalf_of ? `for ${mine.on_behalf_of}` : 'in their own name';
    return { code: 'one_seat', message: `${voter} already voted ${as} on this approval; a person holds one seat per approval` };
  }
  const taken = votes.find((v) => seatOf(v) === seat && v.user !== voter);
  if (taken) {
    const who = taken.on_behalf_of ? `${taken.user} already voted for ${seat}` : `${seat} already voted`;
    return { code: 'seat_taken', message: `${who} on this approval; a seat holds one person's vote` };
  }
  return null;
}
