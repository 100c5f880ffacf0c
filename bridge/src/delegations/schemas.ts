import { z } from '../zod.js';

/** The longest a delegation made through the API may last, counted from when it is made. */
export const MAX_DELEGATION_DAYS = 90;
const DAY_MS = 24 * 60 * 60 * 1000;
// Clients' clocks differ a little: a start this far in the past is taken as "now".
const CLOCK_SKEW_MS = 5 * 60 * 1000;

export const DELEGATION_STATES = ['scheduled', 'active', 'ended', 'revoked'] as const;

export const Delegation = z
  .object({
    id: z.string().openapi({ description: 'A stored delegation\'s id; `policies-file:N` for the Nth of the policies file\'s `delegations`' }),
    from: z.string().openapi({ description: 'The delegator: who handed their vote' }),
    to: z.string().openapi({ description: 'The deputy, who may vote in place of the delegator' }),
    starts_at: z.iso.datetime(),
    ends_at: z.iso.datetime(),
    policies: z.array(z.string()).nullable().openapi({ description: 'The policies it is limited to; null for every policy' }),
    reason: z.string().nullable(),
    source: z.enum(['api', 'policies_file']).openapi({ description: 'Made through the API (revocable by its delegator) or named in the policies file (changed there)' }),
    created_at: z.iso.datetime().nullable(),
    revoked_at: z.iso.datetime().nullable(),
    revoked_by: z.string().nullable(),
    state: z.enum(DELEGATION_STATES).openapi({ description: 'As of now: not begun yet, in force, past its end, or revoked' }),
  })
  .openapi('Delegation', { description: "A person's vote handed to a deputy for a period, optionally for some policies only" });
export type Delegation = z.infer<typeof Delegation>;

export const DelegationList = z
  .object({
    given: z.array(Delegation).openapi({ description: 'Those the signed-in person gave (they are the delegator), newest first' }),
    received: z.array(Delegation).openapi({ description: 'Those the signed-in person received (they are the deputy), newest first' }),
    others: z.array(Delegation).openapi({ description: "Everyone else's, for an admin asking all=true; empty otherwise" }),
  })
  .openapi('DelegationList');
export type DelegationList = z.infer<typeof DelegationList>;

export const DelegationListQuery = z.object({
  all: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .openapi({ description: "Everyone's delegations (admins only); the signed-in person's given and received ones otherwise" }),
});

const Moment = z.iso.datetime({ offset: true, error: 'expected an ISO 8601 date-time, e.g. 2026-12-01T00:00:00Z' });

export const DelegationRequest = z
  .object({
    to: z.string().trim().min(1, 'name the deputy').max(256),
    starts_at: Moment.optional().openapi({ description: 'Now when omitted' }),
    ends_at: Moment.openapi({ description: `At most ${MAX_DELEGATION_DAYS} days from now` }),
    policies: z.array(z.string().min(1)).min(1, 'list at least one policy, or leave policies out for all').max(100).optional(),
    reason: z.string().trim().min(1, 'a delegation needs a reason').max(2000),
  })
  .strict()
  .openapi('DelegationRequest', { description: "The signed-in person hands their own vote to a deputy (`to`)" });
export type DelegationRequest = z.infer<typeof DelegationRequest>;

/**
 * The request as the signed-in person may make it now: not to themselves, within the bound, for policies the file
 * has. What parses here is stored as it is (times normalized to UTC), so a refusal names the field to fix.
 */
export function delegationRequestFor(who: { user: string; now: Date; policyNames: ReadonlySet<string> }) {
  const now = who.now.getTime();
  return DelegationRequest.superRefine((d, ctx) => {
    if (d.to === who.user) ctx.addIssue({ code: 'custom', path: ['to'], message: 'you cannot delegate to yourself' });
    const starts = d.starts_at ? Date.parse(d.starts_at) : now;
    const ends = Date.parse(d.ends_at);
    if (starts < now - CLOCK_SKEW_MS) ctx.addIssue({ code: 'custom', path: ['starts_at'], message: 'must not be in the past' });
    if (ends <= Math.max(starts, now)) ctx.addIssue({ code: 'custom', path: ['ends_at'], message: 'must be after starts_at and in the future' });
    if (ends > now + MAX_DELEGATION_DAYS * DAY_MS) ctx.addIssue({ code: 'custom', path: ['ends_at'], message: `must be at most ${MAX_DELEGATION_DAYS} days from now` });
    d.policies?.forEach((name, i) => {
      if (!who.policyNames.has(name)) ctx.addIssue({ code: 'custom', path: ['policies', i], message: `unknown policy "${name}"` });
    });
  }).transform((d) => ({
    to: d.to,
    starts_at: new Date(Math.max(d.starts_at ? Date.parse(d.starts_at) : now, now)).toISOString(),
    ends_at: new Date(d.ends_at).toISOString(),
    policies: d.policies ? [...new Set(d.policies)] : null,
    reason: d.reason,
  }));
}
export type NewDelegation = z.output<ReturnType<typeof delegationRequestFor>>;

export const DelegationIdParam = z.object({ id: z.string().min(1) });
