import type { Logger } from 'pino';
import { type AirflowClient, type HitlDetail, statusOf } from '../airflow/client.js';
import type { ApprovalStore, StoredApproval } from './store.js';
import { stateForOption } from './service.js';

/**
 * Keeps the store in step with Airflow: registers pending HITL tasks assigned to the bridge's service
 * account (so an approval created while the bridge was down is still picked up) and closes approvals
 * that Airflow resolved without the bridge (timeout default, cleared task, deleted run).
 */
export class Reconciler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly airflow: AirflowClient,
    private readonly store: ApprovalStore,
    private readonly serviceAccount: string,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  start(intervalMs: number) {
    this.timer = setInterval(() => void this.runOnce().catch((err: unknown) => this.log.warn({ err: String(err) }, 'reconcile failed')), intervalMs);
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
    for (const detail of pending) {
      const { approval, created } = await this.store.register(toRequest(detail));
      live.add(approval.id);
      if (created) this.log.info({ approval: approval.id, dag_id: approval.dag_id, task_id: approval.task_id }, 'approval registered');
    }
    for (let cursor: string | undefined; ; ) {
      const page = await this.store.list({ state: 'pending', limit: 200, cursor });
      for (const approval of page.items.filter((a) => !live.has(a.id))) await this.closeIfResolved(approval);
      if (!page.next_cursor) break;
      cursor = page.next_cursor;
    }
  }

  private async closeIfResolved(approval: StoredApproval) {
    const at = this.now().toISOString();
    let detail: HitlDetail;
    try {
      detail = await this.airflow.getHitl(approval);
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      await this.store.close(approval.id, 'cancelled', null, at);
      return;
    }
    if (detail.task_instance.try_number !== approval.try_number) {
      await this.store.close(approval.id, 'cancelled', null, at);
    } else if (detail.response_received) {
      const option = detail.chosen_options?.[0] ?? '';
      // No responder means Airflow's own timeout took the defaults.
      const state = detail.responded_by_user ? stateForOption(option) : 'expired';
      await this.store.close(approval.id, state, { option, params_input: detail.params_input ?? {} }, at);
    } else {
      return;
    }
    this.log.info({ approval: approval.id }, 'approval closed by Airflow');
  }
}

function toRequest(detail: HitlDetail) {
  const ti = detail.task_instance;
  return {
    dag_id: ti.dag_id,
    run_id: ti.dag_run_id,
    task_id: ti.task_id,
    map_index: ti.map_index,
    try_number: ti.try_number,
    subject: detail.subject,
    body: detail.body ?? null,
    options: detail.options,
    params: detail.params ?? {},
    created_at: new Date(detail.created_at).toISOString(),
    due_at: null,
  };
}
