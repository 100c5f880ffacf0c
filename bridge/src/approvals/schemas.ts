import { z } from '../zod.js';
import { Signal } from './signals.js';

export const approvalStates = ['pending', 'approved', 'rejected', 'expired', 'cancelled'] as const;
export const ApprovalState = z.enum(approvalStates).openapi('ApprovalState');
export type ApprovalState = z.infer<typeof ApprovalState>;

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
    level: z.number().int().openapi({ description: 'The open level (1-based); the last one once final' }),
    requester: z.string().nullable().openapi({ description: 'Who triggered the run' }),
    votes: z.array(Vote),
    created_at: z.iso.datetime(),
    due_at: z.iso.datetime().nullable(),
    decided_at: z.iso.datetime().nullable(),
    outcome: Outcome.nullable(),
    progress: Progress.nullable().openapi({ description: "The open level's tally under the policies in force now" }),
    external: z.boolean().openapi({ description: 'True when a sensor waits for the decision instead of a HITL task' }),
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
    map_index: z.number().int().min(-1).default(-1),
    try_number: z.number().int().min(0),
    subject: z.string().min(1),
    body: z.string().nullable().default(null),
    options: z.array(z.string().min(1)).min(1),
    params: z.record(z.string(), z.unknown()).default({}),
    requester: z.string().nullable().default(null),
    tags: z.array(z.string()).default([]),
    values: z.record(z.string(), z.unknown()).default({}),
    external: z.boolean().default(false).openapi({ description: 'No HITL task waits: the bridge answers nothing in Airflow, it publishes the signals' }),
    signals: z.array(Signal).max(10).default([]),
  })
  .strict()
  .openapi('ApprovalRegistration');
export type ApprovalRegistration = z.infer<typeof ApprovalRegistration>;

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
