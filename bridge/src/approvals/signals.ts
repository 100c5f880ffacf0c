import { parse } from '../http/errors.js';
import { notFound } from '../refusal.js';
import { z } from '../zod.js';
import { ApprovalState } from './states.js';
import type { StoredApproval } from './store.js';

// Airflow's own id rules (dag, task, run ids), so a signal file's path never leaves the signals directory.
const PATH_SEGMENT = /^(?!\.{1,2}$)[A-Za-z0-9_.~:+-]+$/;

/**
 * What the bridge publishes to Airflow once an approval is decided, for a DAG that waits with a sensor
 * instead of a HITL task: a DAG run with the decision in its conf, a file, or an asset event.
 */
export const Signal = z
  .discriminatedUnion('kind', [
    z
      .object({ kind: z.literal('trigger_dag'), dag_id: z.string().regex(PATH_SEGMENT) })
      .strict()
      .openapi({
        description:
          'Trigger dag_id with run id airgate__<approval id> and no logical date: a sensor matches that run id (airgate.sensors.ApprovalSignalRunSensor), so approvals of runs sharing a logical date never release each other',
      }),
    z.object({ kind: z.literal('file') }).strict().openapi({
      description: 'Write <AIRGATE_SIGNALS_DIR>/<dag_id>/<run_id>/<task_id>.json atomically',
    }),
    z.object({ kind: z.literal('asset_event'), uri: z.string().min(1) }).strict(),
  ])
  .openapi('Signal');
export type Signal = z.infer<typeof Signal>;

/** The decision as a signal carries it (file, run conf, asset event extra) and the status endpoint shows it. */
export const ApprovalSignal = z
  .object({
    approval_id: z.string(),
    dag_id: z.string(),
    run_id: z.string(),
    task_id: z.string(),
    map_index: z.number().int(),
    try_number: z.number().int(),
    state: ApprovalState,
    option: z.string().nullable().openapi({ description: 'The chosen option; null while pending or when a deadline failed it' }),
    params_input: z.record(z.string(), z.unknown()),
    policy: z.string().nullable(),
    decided_at: z.iso.datetime().nullable(),
    due_at: z.iso.datetime().nullable().openapi({ description: "The approval's deadline (the earlier of the policy's and Airflow's timeout), what its SLA is measured against" }),
    deciders: z.array(
      z.object({ user: z.string(), option: z.string(), reason: z.string().nullable(), channel: z.string(), at: z.iso.datetime() }),
    ),
  })
  .openapi('ApprovalSignal');
export type ApprovalSignal = z.infer<typeof ApprovalSignal>;

export const ApprovalStatusQuery = z.object({
  dag_id: z.string().min(1),
  run_id: z.string().min(1),
  task_id: z.string().min(1),
  map_index: z.coerce.number().int().min(-1).max(Number.MAX_SAFE_INTEGER).default(-1),
});

/** Finds the latest try's approval of one task. */
export type FindLatest<T> = (key: z.infer<typeof ApprovalStatusQuery>) => Promise<T | undefined>;

/** The approval a signal's query names (the task's latest try), or a refusal naming the task when it asked for none. */
export async function signalApproval<T>(findLatest: FindLatest<T>, query: unknown): Promise<T> {
  const key = parse(ApprovalStatusQuery, query, 'query');
  const approval = await findLatest(key);
  if (!approval) throw notFound(`no approval for ${key.dag_id}/${key.run_id}/${key.task_id}`);
  return approval;
}

export function signalOf(approval: StoredApproval): ApprovalSignal {
  return {
    approval_id: approval.id,
    dag_id: approval.dag_id,
    run_id: approval.run_id,
    task_id: approval.task_id,
    map_index: approval.map_index,
    try_number: approval.try_number,
    state: approval.state,
    option: approval.outcome?.option ?? null,
    params_input: approval.outcome?.params_input ?? {},
    policy: approval.policy,
    decided_at: approval.decided_at,
    due_at: approval.due_at,
    deciders: [
      ...approval.votes.filter((v) => !v.replaced).map((v) => ({ user: v.user, option: v.option, reason: v.reason, channel: v.channel, at: v.at })),
      // The person who broke the glass decided it, past the votes so far.
      ...(approval.bypass && approval.outcome
        ? [{ user: approval.bypass.by, option: approval.outcome.option, reason: approval.bypass.reason, channel: BREAK_GLASS_CHANNEL, at: approval.bypass.at }]
        : []),
    ],
  };
}

/** The channel a break-glass bypass is recorded under, where a vote names its own. */
export const BREAK_GLASS_CHANNEL = 'break_glass';

/** Where a file signal lands under the signals directory; each part is checked against Airflow's id rules. */
export function signalFileParts(approval: Pick<StoredApproval, 'dag_id' | 'run_id' | 'task_id'>): string[] | null {
  const parts = [approval.dag_id, approval.run_id, `${approval.task_id}.json`];
  return parts.every((p) => PATH_SEGMENT.test(p)) ? parts : null;
}
