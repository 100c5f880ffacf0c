import type { StoredApproval } from '../approvals/store.js';
import { signalOf } from '../approvals/signals.js';
import { effect } from './apply.js';

export const taskKey = (a: StoredApproval) => ({ dag_id: a.dag_id, run_id: a.run_id, task_id: a.task_id, map_index: a.map_index });

/** The longest note Airflow takes (its task-instance PATCH body, api_fastapi/core_api/datamodels/task_instances.py:233). */
export const AIRFLOW_NOTE_MAX = 1000;

/** The note cut to what Airflow takes, so a decision with long reasons still gets its note. */
const fitted = (note: string) => (note.length <= AIRFLOW_NOTE_MAX ? note : `${note.slice(0, AIRFLOW_NOTE_MAX - 1)}…`);

/**
 * What closing an approval applies to Airflow, for a vote and a deadline alike: the HITL answer with the
 * outcome (the effect worker holds it until Airflow can take it) or, with no outcome, a failed task; the task
 * note; then its signals. An external approval has no HITL task: its decision reaches Airflow only through its
 * signals.
 */
export function closingEffects(closed: StoredApproval, note: string) {
  const key = taskKey(closed);
  const outcome = closed.outcome;
  const hitl = [
    outcome
      ? effect('answer_hitl', { key, chosen_options: [outcome.option], params_input: outcome.params_input })
      : effect('fail_task', { key }),
    effect('task_note', { key, note: fitted(note) }),
  ];
  return [...(closed.external ? [] : hitl), ...signalEffects(closed)];
}

/** The effects that publish a decided approval's signals. */
export function signalEffects(decided: StoredApproval) {
  const signal = signalOf(decided);
  return decided.signals.map((s) => {
    switch (s.kind) {
      case 'trigger_dag':
        return effect('trigger_dag', {
          dag_id: s.dag_id,
          // Deterministic, so a retry after a lost reply finds its run instead of starting a second one.
          run_id: `airgate__${decided.id}`,
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
