import { z } from '../zod.js';

const reason = z.string().trim().min(1, 'a reason is required').max(2000);
const dagId = z.string().min(1);
const taskTarget = { dag_id: dagId, run_id: z.string().min(1), task_id: z.string().min(1), map_index: z.number().int().min(-1).max(Number.MAX_SAFE_INTEGER).default(-1) };

/** The Airflow actions people take from the UI; each needs a reason and a confirmation. */
export const ActionRequest = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('trigger_run'), dag_id: dagId, conf: z.record(z.string(), z.unknown()).default({}), reason }).strict(),
    z
      .object({
        kind: z.literal('mark_task'),
        ...taskTarget,
        state: z.enum(['success', 'failed', 'skipped']),
        include_downstream: z.boolean().default(false),
        reason,
      })
      .strict(),
    z.object({ kind: z.literal('clear_task'), ...taskTarget, include_downstream: z.boolean().default(false), reason }).strict(),
    z.object({ kind: z.literal('mark_run_failed'), dag_id: dagId, run_id: z.string().min(1), reason }).strict(),
    z.object({ kind: z.literal('pause_dag'), dag_id: dagId, reason }).strict(),
    z.object({ kind: z.literal('resume_dag'), dag_id: dagId, reason }).strict(),
    z
      .object({
        kind: z.literal('publish_asset_event'),
        asset_id: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
        extra: z.record(z.string(), z.unknown()).default({}),
        reason,
      })
      .strict(),
  ])
  .openapi('ActionRequest');
export type ActionRequest = z.infer<typeof ActionRequest>;

export const ActionConfirmation = z
  .object({
    confirmation: z.object({
      token: z.string(),
      effect: z.string().openapi({ description: 'What confirming will do, e.g. "clears 4 tasks: a, b, c, d"' }),
      expires_at: z.iso.datetime(),
    }),
  })
  .openapi('ActionConfirmation');
export type ActionConfirmation = z.infer<typeof ActionConfirmation>;

export const ConfirmActionRequest = z.object({ token: z.string().min(1) }).strict().openapi('ConfirmActionRequest');

export const ActionResult = z
  .object({ applied: z.literal(true), kind: z.string(), result: z.record(z.string(), z.unknown()) })
  .openapi('ActionResult');
export type ActionResult = z.infer<typeof ActionResult>;
