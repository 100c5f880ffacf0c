import type { Logger } from 'pino';
import { type AirflowClient, type HitlDetail, statusOf } from '../airflow/client.js';
import type { ApprovalService } from './service.js';
import type { ApprovalRequest, ApprovalStore, StoredApproval } from './store.js';

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
    for (const detail of pending) {
      const ti = detail.task_instance;
      const key = { dag_id: ti.dag_id, run_id: ti.dag_run_id, task_id: ti.task_id, map_index: ti.map_index, try_number: ti.try_number };
      const known = await this.store.findByTaskTry(key);
      const approval = known ?? (await this.service.register(await this.describe(detail), 'reconcile'));
      live.add(approval.id);
    }
    for (let cursor: string | undefined; ; ) {
      const page = await this.store.list({ state: 'pending', limit: 200, cursor });
      // An external approval has no HITL request to find: only people or its deadline close it.
      for (const approval of page.items.filter((a) => !live.has(a.id) && !a.external)) await this.closeIfResolved(approval);
      if (!page.next_cursor) break;
      cursor = page.next_cursor;
    }
  }

  /** What the Airflow side would have pushed: the request plus who triggered the run, its conf and the DAG's tags. */
  private async describe(detail: HitlDetail): Promise<ApprovalRequest> {
    const ti = detail.task_instance;
    const [run, dag] = await Promise.all([this.airflow.getDagRun(ti.dag_id, ti.dag_run_id), this.airflow.getDag(ti.dag_id)]);
    const params = (detail.params ?? {}) as Record<string, { value?: unknown }>;
    const formDefaults = Object.fromEntries(Object.entries(params).map(([name, spec]) => [name, spec?.value]));
    return {
      dag_id: ti.dag_id,
      run_id: ti.dag_run_id,
      task_id: ti.task_id,
      map_index: ti.map_index,
      try_number: ti.try_number,
      subject: detail.subject,
      body: detail.body ?? null,
      options: detail.options,
      params,
      created_at: new Date(detail.created_at).toISOString(),
      requester: run.triggering_user_name ?? null,
      tags: dag.tags.map((t) => t.name).sort(),
      values: { ...(run.conf ?? {}), ...formDefaults },
    };
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
    }
  }
}
