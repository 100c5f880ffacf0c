import { z } from 'zod';
import { AirflowActions, type AirflowClient, statusOf } from '../airflow/client.js';

const Key = z.object({ dag_id: z.string(), run_id: z.string(), task_id: z.string(), map_index: z.number().int() });

/** What the bridge does to Airflow, by kind; each payload is validated again when it is applied. */
export const effectPayloads = {
  answer_hitl: z.object({
    key: Key,
    chosen_options: z.array(z.string()),
    params_input: z.record(z.string(), z.unknown()),
  }),
  task_note: z.object({ key: Key, note: z.string() }),
  /** A deadline whose policy says `fail`: the task fails instead of taking an answer. */
  fail_task: z.object({ key: Key }),
};
export type EffectKind = keyof typeof effectPayloads;
export type EffectPayload<K extends EffectKind> = z.infer<(typeof effectPayloads)[K]>;

export const effect = <K extends EffectKind>(kind: K, payload: EffectPayload<K>) => ({ kind, payload });

/** Thrown when retrying cannot help (the request itself is wrong or was answered differently). */
export class PermanentEffectError extends Error {}

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

/** What applying an effect came to: done, or not yet possible and to be tried again at a time. */
export type EffectOutcome = { done: true } | { done: false; retryAt: Date; waitingSeenAt: string | null };

export interface EffectContext {
  now: Date;
  /** When this effect first found its task waiting in `awaiting_input` (null until it has). */
  waitingSeenAt: string | null;
  /** How long a task must have been seen waiting before it is answered. */
  hitlSettleMs: number;
}

const DONE: EffectOutcome = { done: true };
// Polls a task that has not parked yet (still writing its request, or Airflow catching up after an outage).
const NOT_WAITING_RETRY_MS = 2000;
const FINISHED = new Set(['success', 'failed', 'skipped', 'upstream_failed', 'removed']);

/**
 * Airflow 3.3.2 loses an answer in two races: one sent before the task is in `awaiting_input` is stored but
 * never resumes it, and one sent before the scheduler processed the executor event of the workload that
 * parked it makes the scheduler fail the task. So the answer waits until the task has been seen waiting
 * for `hitlSettleMs` (longer than `[workers] min_heartbeat_interval` plus a scheduler loop).
 */
async function hitlReadiness(airflow: AirflowClient, p: EffectPayload<'answer_hitl'>, ctx: EffectContext): Promise<EffectOutcome | 'answer'> {
  const detail = await airflow.getHitl(p.key).catch((err: unknown) => {
    throw classify(err);
  });
  if (detail.response_received) {
    if (sameSet(detail.chosen_options ?? [], p.chosen_options)) return DONE;
    throw new PermanentEffectError(`answered elsewhere with ${JSON.stringify(detail.chosen_options)}`);
  }
  const state = detail.task_instance.state ?? 'none';
  if (FINISHED.has(state)) throw new PermanentEffectError(`the task is ${state}; it no longer waits for an answer`);
  if (state !== 'awaiting_input') {
    return { done: false, retryAt: new Date(ctx.now.getTime() + NOT_WAITING_RETRY_MS), waitingSeenAt: null };
  }
  const seen = ctx.waitingSeenAt ?? ctx.now.toISOString();
  const settledAt = new Date(Date.parse(seen) + ctx.hitlSettleMs);
  return settledAt > ctx.now ? { done: false, retryAt: settledAt, waitingSeenAt: seen } : 'answer';
}

export async function applyEffect(airflow: AirflowClient, kind: string, raw: unknown, ctx: EffectContext): Promise<EffectOutcome> {
  switch (kind) {
    case 'answer_hitl': {
      const p = effectPayloads.answer_hitl.parse(raw);
      const readiness = await hitlReadiness(airflow, p, ctx);
      if (readiness !== 'answer') return readiness;
      try {
        await airflow.answerHitl(p.key, { chosen_options: p.chosen_options, params_input: p.params_input });
      } catch (err) {
        if (statusOf(err) !== 409) throw classify(err);
        // Already answered: done if Airflow holds our answer (an earlier attempt whose reply was lost).
        const stored = await airflow.getHitl(p.key);
        if (!sameSet(stored.chosen_options ?? [], p.chosen_options)) {
          throw new PermanentEffectError(`answered elsewhere with ${JSON.stringify(stored.chosen_options)}`);
        }
      }
      return DONE;
    }
    case 'task_note': {
      const p = effectPayloads.task_note.parse(raw);
      await airflow.setTaskNote(p.key, p.note).catch((err: unknown) => {
        throw classify(err);
      });
      return DONE;
    }
    case 'fail_task': {
      const p = effectPayloads.fail_task.parse(raw);
      // Task-state changes live on the actions client; a bridge wired with the plain client cannot fail tasks.
      if (!(airflow instanceof AirflowActions)) throw new PermanentEffectError('fail_task needs the outbox to run with AirflowActions');
      await airflow.markTask(p.key, { new_state: 'failed', include_upstream: false, include_downstream: false, include_future: false, include_past: false }, false).catch((err: unknown) => {
        throw classify(err);
      });
      return DONE;
    }
    default:
      throw new PermanentEffectError(`unknown effect kind ${kind}`);
  }
}

function classify(err: unknown): unknown {
  const status = statusOf(err);
  // 4xx other than auth/rate limits means the request is wrong and will stay wrong.
  if (status && status >= 400 && status < 500 && ![401, 408, 429].includes(status)) {
    return new PermanentEffectError(`Airflow answered ${status}: ${String((err as Error).message)}`);
  }
  return err;
}
