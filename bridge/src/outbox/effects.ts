import { z } from 'zod';
import { type AirflowClient, statusOf } from '../airflow/client.js';

const Key = z.object({ dag_id: z.string(), run_id: z.string(), task_id: z.string(), map_index: z.number().int() });

/** What the bridge does to Airflow, by kind; each payload is validated again when it is applied. */
export const effectPayloads = {
  answer_hitl: z.object({
    key: Key,
    chosen_options: z.array(z.string()),
    params_input: z.record(z.string(), z.unknown()),
  }),
  task_note: z.object({ key: Key, note: z.string() }),
};
export type EffectKind = keyof typeof effectPayloads;
export type EffectPayload<K extends EffectKind> = z.infer<(typeof effectPayloads)[K]>;

export const effect = <K extends EffectKind>(kind: K, payload: EffectPayload<K>) => ({ kind, payload });

/** Thrown when retrying cannot help (the request itself is wrong or was answered differently). */
export class PermanentEffectError extends Error {}

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

export async function applyEffect(airflow: AirflowClient, kind: string, raw: unknown): Promise<void> {
  switch (kind) {
    case 'answer_hitl': {
      const p = effectPayloads.answer_hitl.parse(raw);
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
      return;
    }
    case 'task_note': {
      const p = effectPayloads.task_note.parse(raw);
      await airflow.setTaskNote(p.key, p.note).catch((err: unknown) => {
        throw classify(err);
      });
      return;
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
