import { effect } from '../outbox/effects.js';
import { z } from '../zod.js';
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
      .object({
        kind: z.literal('trigger_dag'),
        dag_id: z.string().regex(PATH_SEGMENT),
        logical_date: z.iso.datetime({ offset: true }).openapi({
          description: "The waiting run's logical date (or run_after): what an ExternalTaskSensor matches on",
        }),
      })
      .strict(),
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
    state: z.enum(['pending', 'approved', 'rejected', 'expired', 'cancelled']),
    option: z.string().nullable().openapi({ description: 'The chosen option; null while pending or when a deadline failed it' }),
    params_input: z.record(z.string(), z.unknown()),
    policy: z.string().nullable(),
    decided_at: z.iso.datetime().nullable(),
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
  map_index: z.coerce.number().int().min(-1).default(-1),
});

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
    deciders: approval.votes
      .filter((v) => !v.replaced)
      .map((v) => ({ user: v.user, option: v.option, reason: v.reason, channel: v.channel, at: v.at })),
  };
}

/** Where a file signal lands under the signals directory; each part is checked against Airflow's id rules. */
export function signalFileParts(approval: Pick<StoredApproval, 'dag_id' | 'run_id' | 'task_id'>): string[] | null {
  const parts = [approval.dag_id, approval.run_id, `${approval.task_id}.json`];
  return parts.every((p) => PATH_SEGMENT.test(p)) ? parts : null;
}

/** The outbox effects that publish a decided approval's signals. */
export function signalEffects(decided: StoredApproval) {
  const signal = signalOf(decided);
  return decided.signals.map((s) => {
    switch (s.kind) {
      case 'trigger_dag':
        return effect('trigger_dag', {
          dag_id: s.dag_id,
          // Deterministic, so a retry after a lost reply finds its run instead of starting a second one.
          run_id: `airgate__${decided.id}`,
          logical_date: s.logical_date,
          conf: { airgate_approval: signal },
          note: `airgate: ${signal.state} ${decided.dag_id}/${decided.run_id}/${decided.task_id}`,
        });
      case 'file':
        return effect('signal_file', { signal });
      case 'asset_event':
        return effect('asset_event', { uri: s.uri, extra: { airgate_approval: signal } });
    }
  });
}
