import { randomBytes } from 'node:crypto';
import { type AirflowActions, reasonOf, statusOf } from '../airflow/client.js';
import { Refusal, conflict, forbidden, gone, notFound, unavailable } from '../refusal.js';
import type { Person } from '../identity/tokens.js';
import type { ApprovalStore } from '../approvals/store.js';
import type { ActionConfirmation, ActionRequest, ActionResult } from './schemas.js';
import type { ActionConfirmationStore } from './store.js';

/** How long a prepared action may be confirmed; long enough to read the effect, short enough to be current. */
export const DEFAULT_CONFIRM_TTL_MS = 120_000;

export interface ActionServiceOptions {
  /** The prepared actions, and the audit of what became of them. */
  confirmations: ActionConfirmationStore;
  /** Which of a run's tasks wait for an airgate decision: those must be decided, never marked or cleared. */
  approvals: Pick<ApprovalStore, 'findPendingTasks'>;
  /** Airflow as the person acting, so Airflow's own roles decide what they may do. */
  airflowAs: (token: string) => AirflowActions;
  now?: () => Date;
  confirmTtlMs?: number;
}

/** Sorted, because Airflow's dry run lists tasks in no stable order and a person compares this text with what they expect. */
const list = (ids: readonly string[]) => `${ids.length} task${ids.length === 1 ? '' : 's'}${ids.length ? `: ${[...ids].sort().join(', ')}` : ''}`;

/** Maps Airflow's refusal of the person to the contract; anything else means Airflow cannot apply it now. */
function fromAirflow(err: unknown): Refusal {
  const status = statusOf(err);
  if (status === 401 || status === 403) return forbidden('Airflow does not allow you this action');
  if (status === 404) return notFound('Airflow does not know that DAG, run, task or asset');
  if (status === 409 || status === 400 || status === 422) return conflict(`Airflow refused: ${String((err as Error).message)}`);
  return unavailable(`Airflow did not apply it (${reasonOf(err)}); nothing was changed`);
}

/**
 * UI-triggered Airflow actions in two steps: `prepare` asks Airflow what would happen (dry runs) and returns a
 * short-lived, single-use confirmation naming that effect; `confirm` applies it as the person. Both are audited.
 */
export class ActionService {
  private readonly now: () => Date;
  private readonly ttl: number;

  constructor(private readonly options: ActionServiceOptions) {
    this.now = options.now ?? (() => new Date());
    this.ttl = options.confirmTtlMs ?? DEFAULT_CONFIRM_TTL_MS;
  }

  async prepare(person: Person, token: string, request: ActionRequest): Promise<ActionConfirmation> {
    const airflow = this.options.airflowAs(token);
    const affected = await this.dryRun(airflow, request).catch((err: unknown) => {
      throw fromAirflow(err);
    });
    await this.refuseBypass(request, affected);
    const effect = await this.describe(airflow, request, affected).catch((err: unknown) => {
      throw fromAirflow(err);
    });
    const now = this.now();
    const confirmation = {
      token: randomBytes(24).toString('base64url'),
      effect,
      expires_at: new Date(now.getTime() + this.ttl).toISOString(),
    };
    await this.options.confirmations.save(
      { ...confirmation, user: person.user, request, created_at: now.toISOString() },
      {
        actor: person.user,
        action: 'action.prepared',
        channel: 'ui',
        reason: request.reason,
        details: { request, effect, expires_at: confirmation.expires_at },
      },
    );
    return { confirmation };
  }

  async confirm(person: Person, token: string, confirmationToken: string): Promise<ActionResult> {
    const { confirmations } = this.options;
    const now = this.now().toISOString();
    // Claim the confirmation atomically: only one confirm can use it, and only before it expires.
    const claimed = await confirmations.claim(confirmationToken, person.user, now);
    if (!claimed) throw await this.whyNot(person, confirmationToken, now);
    const { request } = claimed;
    const airflow = this.options.airflowAs(token);
    let result: Record<string, unknown>;
    try {
      // Again at confirm: the task may have started waiting for a decision since the action was prepared.
      await this.refuseBypass(request, await this.dryRun(airflow, request));
      result = await this.apply(airflow, request, person);
    } catch (err) {
      const error = err instanceof Refusal ? err : fromAirflow(err);
      // Nothing changed in Airflow, so the person may try again while the confirmation is valid.
      await confirmations.release(confirmationToken);
      await confirmations.audit({
        actor: person.user,
        action: 'action.failed',
        channel: 'ui',
        reason: request.reason,
        details: { request, kind: error.kind, message: error.message },
      });
      throw error;
    }
    await confirmations.audit({
      actor: person.user,
      action: 'action.applied',
      channel: 'ui',
      reason: request.reason,
      details: { request, effect: claimed.effect, result },
    });
    return { applied: true, kind: request.kind, result };
  }

  /**
   * Refuses to mark or clear a task that waits for an airgate decision (the task itself, or downstream of the one
   * named, as Airflow's dry run lists them): that would resume or restart it past the policy. Pointing at the
   * approval tells the person where to decide instead.
   */
  private async refuseBypass(request: ActionRequest, affected: readonly string[]): Promise<void> {
    if (request.kind !== 'mark_task' && request.kind !== 'clear_task') return;
    const [waiting] = await this.options.approvals.findPendingTasks(request.dag_id, request.run_id, [...new Set([request.task_id, ...affected])]);
    if (!waiting) return;
    const verb = request.kind === 'mark_task' ? `mark ${waiting.task_id} ${request.state}` : `clear ${waiting.task_id}`;
    throw conflict(
      `${waiting.task_id} waits for approval ${waiting.id}: decide it in airgate (Approvals, /api/v1/approvals/${waiting.id}) instead of trying to ${verb}`,
      'approval_pending',
    );
  }

  /** The tasks a mark or clear would change, from Airflow's own dry run; nothing for the other actions. */
  private async dryRun(airflow: AirflowActions, request: ActionRequest): Promise<string[]> {
    if (request.kind === 'clear_task') return airflow.clearTasks(request.dag_id, clearBody(request), true);
    if (request.kind === 'mark_task') return airflow.markTask(request, markBody(request), true);
    return [];
  }

  private async whyNot(person: Person, token: string, now: string): Promise<Refusal> {
    const row = await this.options.confirmations.find(token);
    if (!row) return notFound('no such confirmation');
    if (row.user !== person.user) return forbidden('this confirmation belongs to someone else');
    if (row.used_at) return gone('this confirmation was already used');
    if (row.expires_at <= now) return gone('this confirmation expired; prepare the action again');
    return conflict('the confirmation could not be claimed');
  }

  /** What confirming will do, in words a person can check, from Airflow's own dry runs where it has them. */
  private async describe(airflow: AirflowActions, request: ActionRequest, affected: readonly string[]): Promise<string> {
    switch (request.kind) {
      case 'trigger_run':
        await airflow.getDag(request.dag_id);
        return `triggers a run of ${request.dag_id} with conf ${JSON.stringify(request.conf)}`;
      case 'mark_task':
        return `marks ${list(affected)} as ${request.state}`;
      case 'clear_task':
        return `clears ${list(affected)} so they run again`;
      case 'mark_run_failed':
        await airflow.getDagRun(request.dag_id, request.run_id);
        return `marks run ${request.run_id} of ${request.dag_id} as failed; its unfinished tasks will not run`;
      case 'pause_dag':
        await airflow.getDag(request.dag_id);
        return `pauses ${request.dag_id}: no new runs are scheduled and queued tasks wait`;
      case 'resume_dag':
        await airflow.getDag(request.dag_id);
        return `resumes ${request.dag_id}: its schedule and waiting tasks continue`;
      case 'publish_asset_event': {
        const asset = await airflow.getAsset(request.asset_id);
        const dags = asset.scheduled_dags.map((d) => d.dag_id);
        return `publishes an event on ${asset.uri}, which schedules ${dags.length ? dags.join(', ') : 'no DAG'}`;
      }
    }
  }

  private async apply(airflow: AirflowActions, request: ActionRequest, person: Person): Promise<Record<string, unknown>> {
    const note = `${person.user} via airgate: ${request.reason}`;
    switch (request.kind) {
      case 'trigger_run': {
        const run = await airflow.triggerRun(request.dag_id, request.conf, note);
        return { dag_run_id: run.dag_run_id };
      }
      case 'mark_task': {
        const ids = await airflow.markTask(request, { ...markBody(request), note }, false);
        return { task_ids: ids };
      }
      case 'clear_task':
        return { task_ids: await airflow.clearTasks(request.dag_id, { ...clearBody(request), note }, false) };
      case 'mark_run_failed':
        await airflow.setRunState(request.dag_id, request.run_id, 'failed', note);
        return { dag_run_id: request.run_id };
      case 'pause_dag':
      case 'resume_dag':
        await airflow.setPaused(request.dag_id, request.kind === 'pause_dag');
        return { dag_id: request.dag_id, is_paused: request.kind === 'pause_dag' };
      case 'publish_asset_event': {
        const event = await airflow.createAssetEvent(request.asset_id, { ...request.extra, airgate: { by: person.user, reason: request.reason } });
        return { asset_event_id: event.id };
      }
    }
  }
}

function markBody(request: Extract<ActionRequest, { kind: 'mark_task' }>) {
  return { new_state: request.state, include_downstream: request.include_downstream, include_upstream: false, include_future: false, include_past: false };
}

function clearBody(request: Extract<ActionRequest, { kind: 'clear_task' }>) {
  return {
    dag_run_id: request.run_id,
    task_ids: [request.map_index >= 0 ? ([request.task_id, request.map_index] as [string, number]) : request.task_id],
    include_downstream: request.include_downstream,
    include_upstream: false,
    include_future: false,
    include_past: false,
    only_failed: false,
    only_running: false,
    reset_dag_runs: true,
    prevent_running_task: false,
  };
}
