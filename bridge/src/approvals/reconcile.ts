import type { Logger } from 'pino';
import { type AirflowClient, type HitlDetail, type TaskInstance, statusOf } from '../airflow/client.js';
import type { AirflowResolution } from './service.js';
import { requestFromHitl } from './registration.js';
import type { ApprovalService } from './service.js';
import type { ApprovalStore, StoredApproval } from './store.js';

/** Task states that end the wait (Airflow's State.finished, utils/state.py). */
const FINISHED = new Set(['success', 'failed', 'skipped', 'upstream_failed', 'removed']);

/** Airflow REST API calls that change a task's state without answering it: marking the task, or its run. */
const BYPASS_EVENTS = ['patch_task_instance', 'bulk_task_instances', 'patch_dag_run', 'bulk_dag_runs'];

/**
 * Keeps the store in step with Airflow: registers pending HITL tasks assigned to the bridge's service
 * account (so an approval created while the bridge was down, or whose push was lost, is still picked up)
 * and closes approvals that Airflow resolved without the bridge (timeout default, cleared task, deleted run).
 */
export class Reconciler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly airflow: AirflowClient,
    private readonly store: ApprovalStore,
    private readonly service: ApprovalService,
    private readonly serviceAccount: string,
    private readonly log: Logger,
  ) {}

  start(intervalMs: number) {
    this.timer = setInterval(
      () => void this.runOnce().catch((err: unknown) => this.log.warn({ err: String(err) }, 'reconcile failed')),
      intervalMs,
    );
  }

  async stop() {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  runOnce(): Promise<void> {
    this.running ??= this.reconcile().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async reconcile() {
    const pending = (await this.airflow.listPendingHitl()).filter((d) =>
      (d.assigned_users ?? []).some((u) => u.id === this.serviceAccount),
    );
    const live = new Set<string>();
    // Airflow lists a request as unanswered even once its task was marked or failed: only a waiting task is live.
    for (const detail of pending.filter((d) => !FINISHED.has(d.task_instance.state ?? ''))) {
      const ti = detail.task_instance;
      const key = { dag_id: ti.dag_id, run_id: ti.dag_run_id, task_id: ti.task_id, map_index: ti.map_index, try_number: ti.try_number };
      const known = await this.store.findByTaskTry(key);
      const approval = known ?? (await this.service.register(await requestFromHitl(this.airflow, detail), 'reconcile'));
      live.add(approval.id);
    }
    for (let cursor: string | undefined; ; ) {
      const page = await this.store.list({ state: 'pending', limit: 200, cursor });
      // A break-glass review waits for its reviewers alone: no task of Airflow's waits for it.
      for (const approval of page.items.filter((a) => !live.has(a.id) && !a.review_of)) {
        if (approval.external) await this.closeIfWaitEnded(approval);
        else await this.closeIfResolved(approval);
      }
      if (!page.next_cursor) break;
      cursor = page.next_cursor;
    }
  }

  private async closeIfResolved(approval: StoredApproval) {
    let detail: HitlDetail;
    try {
      detail = await this.airflow.getHitl(approval);
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      await this.service.closeFromAirflow(approval.id, { kind: 'gone' });
      return;
    }
    if (detail.task_instance.try_number !== approval.try_number) {
      await this.service.closeFromAirflow(approval.id, { kind: 'gone' });
    } else if (detail.response_received) {
      await this.service.closeFromAirflow(approval.id, {
        kind: 'answered',
        option: detail.chosen_options?.[0] ?? '',
        params_input: detail.params_input ?? {},
        by: detail.responded_by_user?.id ?? null,
      });
    } else if (FINISHED.has(detail.task_instance.state ?? '')) {
      await this.closeLeftWait(approval, detail);
    }
  }

  /**
   * An external approval has no HITL request: what waits for it is the request task's downstream (its sensor and
   * what follows). Once all of that has finished with the approval still pending, nothing can use a decision any
   * more, so it is closed — `expired` when a waiting task failed or was skipped (a sensor's timeout, soft or not),
   * else `cancelled` — and a late vote is refused instead of publishing a signal (a file) after cleanup ran. The
   * same when the run was deleted or the request task runs again (a new try registers its own approval).
   */
  private async closeIfWaitEnded(approval: StoredApproval) {
    let tis: TaskInstance[];
    try {
      tis = await this.airflow.runTaskInstances(approval.dag_id, approval.run_id);
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      await this.service.closeFromAirflow(approval.id, { kind: 'gone' });
      return;
    }
    const request = tis.find((t) => t.task_id === approval.task_id && t.map_index === approval.map_index);
    if (!request || request.try_number !== approval.try_number) {
      await this.service.closeFromAirflow(approval.id, { kind: 'gone' });
      return;
    }
    const downstream = new Set(await this.airflow.downstreamTaskIds(approval.dag_id, approval.task_id));
    const waiting = tis.filter((t) => downstream.has(t.task_id));
    if (waiting.length === 0 || waiting.some((t) => !FINISHED.has(t.state ?? ''))) return;
    const expired = waiting.some((t) => t.state === 'failed' || t.state === 'skipped' || t.state === 'upstream_failed');
    await this.service.closeFromAirflow(approval.id, { kind: 'gone', expired });
  }

  /**
   * The task finished without an answer. Someone set its state (or its run's) in Airflow — the bridge's actions
   * refuse to — and Airflow's event log names them: bypassed. A task that failed with no one behind it is Airflow's
   * own timeout without defaults (or a crash): expired. A success or skip never comes without a person: bypassed,
   * by whoever the log names, or unknown.
   */
  private async closeLeftWait(approval: StoredApproval, detail: HitlDetail) {
    const state = detail.task_instance.state ?? '';
    const entries = await this.airflow.eventLogs(approval.dag_id, approval.run_id, BYPASS_EVENTS);
    // A note-only edit of the task is no state change; the bridge's own entries (its notes) are not a person's.
    const entry = entries.find(
      (e) =>
        e.owner !== this.serviceAccount &&
        (e.task_id === null || e.task_id === approval.task_id) &&
        (e.event !== 'patch_task_instance' || (e.extra ?? '').includes('new_state')),
    );
    if (!entry && state === 'failed') {
      await this.service.closeFromAirflow(approval.id, { kind: 'gone', expired: true });
      return;
    }
    const resolution: AirflowResolution = {
      kind: 'state_changed',
      state,
      by: entry?.owner ?? null,
      at: entry?.when ?? null,
      event: entry?.event ?? null,
      note: detail.task_instance.note ?? null,
    };
    this.log.warn({ approval: approval.id, dag_id: approval.dag_id, run_id: approval.run_id, task_id: approval.task_id, ...resolution }, 'approval bypassed in Airflow');
    await this.service.closeFromAirflow(approval.id, resolution);
  }
}
