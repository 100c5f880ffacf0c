import { z } from '../zod.js';

export const approvalStates = ['pending', 'approved', 'rejected', 'expired', 'cancelled'] as const;
export const ApprovalState = z.enum(approvalStates).openapi('ApprovalState');
export type ApprovalState = z.infer<typeof ApprovalState>;

export const Vote = z
  .object({
    user: z.string(),
    option: z.string(),
    reason: z.string().nullable(),
    channel: z.string(),
    at: z.iso.datetime(),
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
    params: z.record(z.string(), z.unknown()).openapi({ description: "The HITL form's params schema" }),
    state: ApprovalState,
    policy: z.string().nullable(),
    level: z.number().int(),
    votes: z.array(Vote),
    created_at: z.iso.datetime(),
    due_at: z.iso.datetime().nullable(),
    decided_at: z.iso.datetime().nullable(),
    outcome: Outcome.nullable(),
  })
  .openapi('Approval');
export type Approval = z.infer<typeof Approval>;

export const ApprovalList = z
  .object({ items: z.array(Approval), next_cursor: z.string().nullable() })
  .openapi('ApprovalList');
export type ApprovalList = z.infer<typeof ApprovalList>;

export const ApprovalListQuery = z.object({
  state: z.enum([...approvalStates, 'all']).default('pending'),
  dag_id: z.string().min(1).optional(),
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
  })
  .strict()
  .openapi('VoteRequest');
export type VoteRequest = z.infer<typeof VoteRequest>;

export const ApprovalIdParam = z.object({ id: z.string().min(1) });
