import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { AirflowActions, type AirflowClient, statusOf } from '../airflow/client.js';
import { signalFileParts } from '../approvals/signals.js';

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
  /** Signals of an approval decided outside HITL (see approvals/signals.ts): a run with the decision as conf, */
  trigger_dag: z.object({
    dag_id: z.string(),
    run_id: z.string(),
    /** Only in effects stored before signal runs lost their logical date; such a run is still pinned to it. */
    logical_date: z.string().optional(),
    conf: z.record(z.string(), z.unknown()),
    note: z.string(),
  }),
  /** a file under the signals directory, */
  signal_file: z.object({ signal: z.looseObject({ dag_id: z.string(), run_id: z.string(), task_id: z.string() }) }),
  /** an asset event with the decision in its extra. */
  asset_event: z.object({ uri: z.string(), extra: z.record(z.string(), z.unknown()) }),
};
export type EffectKind = keyof typeof effectPayloads;
export type EffectPayload<K extends EffectKind> = z.infer<(typeof effectPayloads)[K]>;

export const effect = <K extends EffectKind>(kind: K, payload: EffectPayload<K>) => ({ kind, payload });

/** Thrown when retrying cannot help (the request itself is wrong or was answered differently). */
export class PermanentEffectError extends Error {}

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

/** What applying an effect came to: done, or not yet possible and to be tried again at a time. */
export type EffectOutcome = { done: true } | { done: false; retryAt: Date; parkedAt: string | null };

/**
 * How long after a HITL task entered `awaiting_input` Airflow 3.3.2 can surely take its answer: the worker reports
 * the parking workload within `[workers] min_heartbeat_interval` (5 s) of the task process exiting, and the
 * scheduler processes that report on its next loop (`[scheduler] scheduler_idle_sleep_time`, 1 s) — 7 s on a
 * responsive machine, 7.7 s seen on a loaded one, hence 10 s. The one default of `HITL_SETTLE_MS`;
 * docs/airflow-hitl-readiness.md derives it from Airflow's source.
 */
export const DEFAULT_HITL_SETTLE_MS = 10_000;

export interface EffectContext {
  now: Date;
  /** When this effect's task entered `awaiting_input`, once known (null until then). */
  parkedAt: string | null;
  /** How long after parking the answer waits (see DEFAULT_HITL_SETTLE_MS). */
  hitlSettleMs: number;
  /** Where file signals are written; null when the bridge has no signals directory. */
  signalsDir: string | null;
  /** Set (performance.now()) once Airflow was found ready for the answer, so the worker can report the phases. */
  readyAt?: number;
}

const DONE: EffectOutcome = { done: true };
// Looks again at a task that has not parked yet (still writing its request, or Airflow catching up after an outage).
const NOT_WAITING_RETRY_MS = 1000;
const FINISHED = new Set(['success', 'failed', 'skipped', 'upstream_failed', 'removed']);

/**
 * Whether Airflow can take the answer now (docs/airflow-hitl-readiness.md). Airflow 3.3.2 fails a HITL task whose
 * answer resumes it before the scheduler has processed the executor event of the workload that parked it, and
 * that processing leaves no trace in its API. So the answer waits until the task is in `awaiting_input` (an answer
 * given earlier resumes it at once, straight into the same race) and `hitlSettleMs` have passed since it got
 * there, by Airflow's own event log; a decision taken later than that is answered at once.
 */
async function hitlReadiness(airflow: AirflowClient, p: EffectPayload<'answer_hitl'>, ctx: EffectContext): Promise<EffectOutcome | 'answer'> {
  const [detail, parked] = await Promise.all([
    airflow.getHitl(p.key).catch((err: unknown) => {
      throw classify(err);
    }),
    ctx.parkedAt ? null : airflow.parkedAt(p.key),
  ]);
  if (detail.response_received) {
    if (sameSet(detail.chosen_options ?? [], p.chosen_options)) return DONE;
    throw new PermanentEffectError(`answered elsewhere with ${JSON.stringify(detail.chosen_options)}`);
  }
  const state = detail.task_instance.state ?? 'none';
  if (FINISHED.has(state)) throw new PermanentEffectError(`the task is ${state}; it no longer waits for an answer`);
  if (state !== 'awaiting_input') {
    return { done: false, retryAt: new Date(ctx.now.getTime() + NOT_WAITING_RETRY_MS), parkedAt: null };
  }
  // The park of this try; without it (no entry yet, or no right to read the log) now is a later, safe stand-in.
  const parkedAt =
    ctx.parkedAt ?? (parked && parked.try_number === detail.task_instance.try_number ? parked.at : ctx.now.toISOString());
  const readyAt = new Date(Date.parse(parkedAt) + ctx.hitlSettleMs);
  return readyAt > ctx.now ? { done: false, retryAt: readyAt, parkedAt } : 'answer';
}

export async function applyEffect(airflow: AirflowClient, kind: string, raw: unknown, ctx: EffectContext): Promise<EffectOutcome> {
  switch (kind) {
    case 'answer_hitl': {
      const p = effectPayloads.answer_hitl.parse(raw);
      const readiness = await hitlReadiness(airflow, p, ctx);
      if (readiness !== 'answer') return readiness;
      ctx.readyAt = performance.now();
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
      await needActions(airflow, kind).markTask(p.key, { new_state: 'failed', include_upstream: false, include_downstream: false, include_future: false, include_past: false }, false).catch((err: unknown) => {
        throw classify(err);
      });
      return DONE;
    }
    case 'trigger_dag': {
      const p = effectPayloads.trigger_dag.parse(raw);
      const actions = needActions(airflow, kind);
      try {
        await actions.triggerRun(p.dag_id, p.conf, p.note, { runId: p.run_id, ...(p.logical_date ? { logicalDate: p.logical_date } : {}) });
      } catch (err) {
        if (statusOf(err) !== 409) throw classify(err);
        // Our run exists (an earlier attempt whose reply was lost); any other conflict is another run at a pinned date.
        await actions.getDagRun(p.dag_id, p.run_id).catch((e: unknown) => {
          throw statusOf(e) === 404 ? new PermanentEffectError(`another run of ${p.dag_id} holds logical date ${p.logical_date ?? '(none)'}`) : classify(e);
        });
      }
      return DONE;
    }
    case 'signal_file': {
      const p = effectPayloads.signal_file.parse(raw);
      if (!ctx.signalsDir) throw new PermanentEffectError('no AIRGATE_SIGNALS_DIR: the bridge cannot write file signals');
      const parts = signalFileParts(p.signal);
      if (!parts) throw new PermanentEffectError('dag_id, run_id and task_id are not valid file names');
      const path = join(ctx.signalsDir, ...parts);
      await mkdir(dirname(path), { recursive: true });
      // Written beside and renamed over: a sensor never sees half a file.
      const partial = `${path}.${process.pid}.partial`;
      await writeFile(partial, `${JSON.stringify(p.signal, null, 2)}\n`);
      await rename(partial, path);
      return DONE;
    }
    case 'asset_event': {
      const p = effectPayloads.asset_event.parse(raw);
      const actions = needActions(airflow, kind);
      const asset = await actions.findAssetByUri(p.uri).catch((err: unknown) => {
        throw classify(err);
      });
      if (!asset) throw new PermanentEffectError(`no asset with uri ${p.uri}; is the DAG that declares it parsed?`);
      // At least once: a retry after a lost reply publishes a second event (consumers key on approval_id).
      await actions.createAssetEvent(asset.id, p.extra).catch((err: unknown) => {
        throw classify(err);
      });
      return DONE;
    }
    default:
      throw new PermanentEffectError(`unknown effect kind ${kind}`);
  }
}

/** Runs, assets and task states live on the actions client; a bridge wired with the plain client cannot change them. */
function needActions(airflow: AirflowClient, kind: string): AirflowActions {
  if (!(airflow instanceof AirflowActions)) throw new PermanentEffectError(`${kind} needs the effect worker to run with AirflowActions`);
  return airflow;
}

function classify(err: unknown): unknown {
  const status = statusOf(err);
  // 4xx other than auth/rate limits means the request is wrong and will stay wrong.
  if (status && status >= 400 && status < 500 && ![401, 408, 429].includes(status)) {
    return new PermanentEffectError(`Airflow answered ${status}: ${String((err as Error).message)}`);
  }
  return err;
}
