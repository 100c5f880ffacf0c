import { type ApprovalView, appliedEffects, gateTasks, hitlDetails, waitFor } from './clients.js';

/** Counted votes of an approval: one per person per level, a replaced vote not counted. */
export const counted = (approval: ApprovalView) => approval.votes.filter((v) => !v.replaced);

/**
 * Waits until Airflow shows every decided approval's answer (HITL detail answered with the bridge's option, a
 * task note written) and returns how many were applied and how many effects were applied more than once.
 */
export async function appliedInAirflow(runId: string, decided: ApprovalView[]): Promise<{ applied: number; duplicated: number }> {
  await waitFor(
    `Airflow to show ${decided.length} answers of ${runId}`,
    async () => {
      const [details, tasks] = await Promise.all([hitlDetails(runId), gateTasks(runId)]);
      const done = decided.filter((a) => {
        const detail = details.get(a.map_index);
        return detail?.response_received && detail.chosen_options?.[0] === a.outcome?.option && tasks.get(a.map_index)?.note;
      });
      return done.length === decided.length ? true : undefined;
    },
    300_000,
  );
  let duplicated = 0;
  for (const approval of decided) {
    const effects = await appliedEffects(approval.id);
    for (const kind of ['answer_hitl', 'task_note']) duplicated += Math.max(0, (effects[kind] ?? 0) - 1);
  }
  return { applied: decided.length, duplicated };
}
