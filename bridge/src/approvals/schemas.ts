import { z } from '../zod.js';
import { OPTION_OUTCOMES } from '../policies/index.js';
import { Delegation } from '../delegations/schemas.js';
import { Signal } from './signals.js';
import { ApprovalState, approvalStates } from './states.js';

export { ApprovalState, approvalStates };

export const ContentDigest = z.string().regex(/^sha256:[0-9a-f]{64}$/).openapi({
  description: "`sha256:<hex>` over the canonical JSON of what a person is shown: subject, body, options, params and the task try (dag_id, run_id, task_id, map_index, try_number)",
});

export const Vote = z
  .object({
    user: z.string(),
    role: z.string().nullable().openapi({ description: "The voter's Airflow role when they voted" }),
    option: z.string(),
    reason: z.string().nullable(),
    channel: z.string(),
    at: z.iso.datetime(),
    level: z.number().int().openapi({ description: 'The level the vote was cast at (1-based)' }),
    replaced: z.boolean().openapi({ description: 'True once the same person voted again at the same level' }),
    params_input: z.record(z.string(), z.unknown()).nullable().openapi({ description: 'The form input given with the vote' }),
    content_digest: ContentDigest.nullable().openapi({ description: 'The digest of the content the voter saw when voting; null on votes recorded before the bridge kept it' }),
    on_behalf_of: z.string().nullable().openapi({
      description: "The delegator whose seat this deputy's vote filled (`user` for `on_behalf_of`, counted as the delegator's); null for a vote in the voter's own name",
    }),
  })
  .openapi('Vote');
export type Vote = z.infer<typeof Vote>;

export const Outcome = z
  .object({
    option: z.string(),
    params_input: z.record(z.string(), z.unknown()),
  })
  .openapi('Outcome');
export type Outcome = z.infer<typeof Outcome>;

export const OptionOutcome = z
  .object({
    option: z.string(),
    outcome: z.enum(OPTION_OUTCOMES).nullable().openapi({
      description: 'What choosing the option means under the policy: approve (votes add up per option) or reject; null when the policy gives it none',
    }),
  })
  .openapi('OptionOutcome');

export const Progress = z
  .object({
    levels: z.number().int(),
    level_name: z.string(),
    needed: z.number().int().openapi({ description: 'Approvals the open level needs' }),
    approvals: z.number().int(),
    rejections: z.number().int(),
  })
  .openapi('Progress');
export type Progress = z.infer<typeof Progress>;

export const Bypass = z
  .object({
    by: z.string(),
    reason: z.string(),
    at: z.iso.datetime(),
    review_id: z.string().openapi({ description: 'The after-the-fact review of this bypass (an approval of its own)' }),
  })
  .openapi('Bypass', { description: 'A break-glass bypass: who decided past the policy, why, and the review it opened' });
export type Bypass = z.infer<typeof Bypass>;

export const ReviewOf = z
  .object({
    approval_id: z.string(),
    policy: z.string().openapi({ description: "The bypassed approval's policy, whose break_glass.reviewers decide this review" }),
    by: z.string(),
    reason: z.string(),
  })
  .openapi('ReviewOf', { description: 'On a break-glass review: the bypass it reviews' });
export type ReviewOf = z.infer<typeof ReviewOf>;

export const Claim = z
  .object({
    by: z.string(),
    until: z.iso.datetime().openapi({ description: 'When the claim ends unless its holder renews it; an ended claim holds nothing' }),
  })
  .openapi('Claim', {
    description: 'A reviewer working on the approval in the review queue (PUT /api/v1/queue/{id}/claim): votes by anyone else are refused (409 claimed) until it ends; null when nobody holds one',
  });
export type Claim = z.infer<typeof Claim>;

export const Approval = z
  .object({
    id: z.string(),
    dag_id: z.string(),
    run_id: z.string(),
    task_id: z.string(),
    map_index: z.number().int(),
    subject: z.string(),
    body: z.string().nullable(),
    options: z.array(z.string()),
    option_outcomes: z.array(OptionOutcome).openapi({ description: 'Each option, in order, with what choosing it means' }),
    params: z.record(z.string(), z.unknown()).openapi({ description: "The HITL form's params schema" }),
    content_digest: ContentDigest.openapi({ description: 'The digest of what people are shown (the first registration of the task try is kept)' }),
    state: ApprovalState,
    policy: z.string().nullable(),
    policy_error: z.string().nullable().openapi({
      description: 'Why no policy may decide this approval now (a condition that cannot be evaluated, an option without an outcome); votes are refused with 409 policy_error until the file or the data is fixed',
    }),
    warnings: z.array(z.string()).openapi({
      description: "Why a pending approval could never be decided as things stand (a level's quorum that the people who may decide cannot meet, see POST /api/v1/policies/dry-run); votes are still counted, escalations and edits to the policies file can make it reachable",
    }),
    level: z.number().int().openapi({ description: 'The open level (1-based); the last one once final' }),
    requester: z.string().nullable().openapi({ description: 'Who triggered the run' }),
    votes: z.array(Vote),
    created_at: z.iso.datetime(),
    due_at: z.iso.datetime().nullable().openapi({ description: "The earliest of the policy's deadline and Airflow's response_timeout" }),
    timeout_at: z.iso.datetime().nullable().openapi({ description: "When Airflow's own response_timeout ends the wait, if the task has one" }),
    decided_at: z.iso.datetime().nullable(),
    outcome: Outcome.nullable(),
    progress: Progress.nullable().openapi({ description: "The open level's tally under the policies in force now" }),
    external: z.boolean().openapi({ description: 'True when a sensor waits for the decision instead of a HITL task' }),
    break_glass: z.boolean().openapi({ description: 'Whether its policy lets someone bypass it (POST /api/v1/approvals/{id}/bypass)' }),
    bypass: Bypass.nullable(),
    review_of: ReviewOf.nullable(),
    claim: Claim.nullable(),
    delegations: z.array(Delegation).openapi({
      description: "Delegations in force now whose delegator is an approver of the open level: who may vote for whom (POST .../votes with on_behalf_of); empty once final",
    }),
  })
  .openapi('Approval');
export type Approval = z.infer<typeof Approval>;

export const ApprovalList = z
  .object({ items: z.array(Approval), next_cursor: z.string().nullable() })
  .openapi('ApprovalList');
export type ApprovalList = z.infer<typeof ApprovalList>;

export const ApprovalRegistration = z
  .object({
    dag_id: z.string().min(1),
    run_id: z.string().min(1),
    task_id: z.string().min(1),
    map_index: z.number().int().min(-1).max(Number.MAX_SAFE_INTEGER).default(-1),
    try_number: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    subject: z.string().min(1),
    body: z.string().nullable().default(null),
    options: z.array(z.string().min(1)).min(1),
    params: z.record(z.string(), z.unknown()).default({}),
    requester: z.string().nullable().default(null),
    tags: z.array(z.string()).default([]),
    values: z.record(z.string(), z.unknown()).default({}),
    owners: z.array(z.string()).default([]).openapi({ description: "The DAG's owners (who may count as requester of an unattended run)" }),
    timeout_at: z.iso.datetime({ offset: true }).nullable().default(null).openapi({ description: "When the task's response_timeout ends the wait" }),
    external: z.boolean().default(false).openapi({ description: 'No HITL task waits: the bridge answers nothing in Airflow, it publishes the signals' }),
    signals: z.array(Signal).max(10).default([]),
  })
  .strict()
  .openapi('ApprovalRegistration');
export type ApprovalRegistration = z.infer<typeof ApprovalRegistration>;

export const ApprovalListQuery = z.object({
  state: z.enum([...approvalStates, 'all']).default('pending'),
  dag_id: z.string().min(1).optional(),
  run_id: z.string().min(1).optional(),
  task_id: z.string().min(1).optional(),
  policy: z.string().min(1).optional().openapi({ description: 'Only approvals under this policy (the review queue filters by it)' }),
  // Digits only: coercion would read an empty value as 0, a real map index.
  map_index: z
    .string()
    .regex(/^-?\d+$/, 'expected an integer')
    .transform(Number)
    .pipe(z.number().int().min(-1))
    .optional()
    .openapi({ type: 'integer', minimum: -1, maximum: Number.MAX_SAFE_INTEGER, description: 'The task instance\'s map index; -1 for a task that is not mapped' }),
  mine: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).optional(),
});
export type ApprovalListQuery = z.infer<typeof ApprovalListQuery>;

export const VoteRequest = z
  .object({
    option: z.string().min(1, 'option is required'),
    reason: z.string().max(2000).optional(),
    params_input: z.record(z.string(), z.unknown()).optional(),
    on_behalf_of: z.string().min(1).max(256).optional().openapi({
      description: 'Vote as deputy in the seat of this person, who delegated their vote to the signed-in person; without it the vote is in their own name',
    }),
  })
  .strict()
  .openapi('VoteRequest');
export type VoteRequest = z.infer<typeof VoteRequest>;

export const BypassRequest = z
  .object({
    reason: z.string().trim().min(1, 'a bypass needs a reason').max(2000),
    option: z.string().min(1).optional().openapi({ description: "The approving option Airflow is answered with; the request's first approving option by default" }),
  })
  .strict()
  .openapi('BypassRequest');
export type BypassRequest = z.infer<typeof BypassRequest>;

export const DeferredVote = z
  .object({
    approval_id: z.string(),
    user: z.string(),
    option: z.string(),
    state: z.literal('awaiting_airflow').openapi({
      description: 'Airflow could not be asked whether the voter may decide; the vote is counted (or refused and audited) once it answers',
    }),
    received_at: z.iso.datetime(),
  })
  .openapi('DeferredVote');
export type DeferredVote = z.infer<typeof DeferredVote>;

export const ApprovalIdParam = z.object({ id: z.string().min(1) });
