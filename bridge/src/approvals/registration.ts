import type { AirflowClient, HitlDetail } from '../airflow/client.js';
import { statusOf } from '../airflow/client.js';
import { canonicalJson, toJsonValue } from '../audit/canonical.js';
import { Refusal, forbidden, unavailable } from '../refusal.js';
import type { ApprovalRegistration } from './schemas.js';
import type { ApprovalRequest } from './store.js';

/** What the bridge reads from Airflow, as its own service account, to learn the truth about a request. */
export type AirflowView = Pick<AirflowClient, 'getHitl' | 'getDagRun' | 'getDag' | 'getTaskInstance'>;

/** The request as Airflow describes it: the HITL request, who triggered the run, its conf and the DAG's tags. */
export async function requestFromHitl(airflow: AirflowView, detail: HitlDetail): Promise<ApprovalRequest> {
  const ti = detail.task_instance;
  const [run, dag] = await Promise.all([airflow.getDagRun(ti.dag_id, ti.dag_run_id), airflow.getDag(ti.dag_id)]);
  const params = (detail.params ?? {}) as Record<string, { value?: unknown }>;
  // As the operator's notifier computes them (airgate.notifiers.request_values): a field without a value is null.
  const formDefaults = Object.fromEntries(Object.entries(params).map(([name, spec]) => [name, spec?.value ?? null]));
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
    owners: dag.owners ?? [],
    values: { ...(run.conf ?? {}), ...formDefaults },
  };
}

/** The fields a registration may not choose: they select the policy and who counts as requester. */
const CHECKED = ['requester', 'tags', 'values'] as const;

const refuse = (field: string, message: string) => forbidden(message, 'registration_unverified', field);

/** Throws 403 naming the first field the claim states differently from `truth` (Airflow's, or what was stored from it). */
export function checkClaim(claim: Pick<ApprovalRequest, (typeof CHECKED)[number]>, truth: Pick<ApprovalRequest, (typeof CHECKED)[number]>): void {
  for (const field of CHECKED) {
    if (canonicalJson(toJsonValue(claim[field])) !== canonicalJson(toJsonValue(truth[field]))) {
      throw refuse(field, `${field} does not match what Airflow records for this task`);
    }
  }
}

/**
 * The service token is readable by every task (the `airgate_bridge` connection), so a registration is a claim, not a
 * fact: it is checked against Airflow before it is stored. A HITL request is taken as Airflow holds it (it must be
 * waiting, for this try, with the bridge's service account as its respondent); an external approval's task try must
 * be running. Requester, tags and values must be what Airflow says (the run's `triggering_user_name`, the DAG's
 * tags, the run's conf and the form's defaults), else 403 naming the field and nothing is stored.
 */
export class RegistrationVerifier {
  constructor(
    private readonly airflow: AirflowView,
    private readonly serviceAccount: string,
  ) {}

  async verify(claim: ApprovalRegistration, now: Date): Promise<ApprovalRequest> {
    let truth: ApprovalRequest;
    try {
      truth = claim.external ? await this.external(claim, now) : await this.hitl(claim);
    } catch (err) {
      if (err instanceof Refusal) throw err;
      if (statusOf(err) === 404) throw refuse('task_id', `Airflow has no ${claim.external ? 'task instance' : 'HITL request'} ${claim.dag_id}/${claim.run_id}/${claim.task_id}[${claim.map_index}]`);
      throw unavailable('Airflow could not be asked to confirm the request; nothing was registered', 'airflow_unavailable');
    }
    checkClaim(claim, truth);
    return truth;
  }

  private async hitl(claim: ApprovalRegistration): Promise<ApprovalRequest> {
    const detail = await this.airflow.getHitl(claim);
    if (!(detail.assigned_users ?? []).some((u) => u.id === this.serviceAccount)) {
      throw refuse('task_id', `the bridge's service account is not the respondent of this HITL request: it is no airgate approval`);
    }
    if (detail.response_received) throw refuse('task_id', 'this HITL request is already answered');
    if (detail.task_instance.try_number !== claim.try_number) throw refuse('try_number', `the waiting try is ${detail.task_instance.try_number}`);
    // Airflow's REST API does not expose the task's response_timeout; the push's end of the wait only makes the
    // shown deadline earlier, never lets anyone decide.
    return { ...(await requestFromHitl(this.airflow, detail)), timeout_at: claim.timeout_at ?? null };
  }

  private async external(claim: ApprovalRegistration, now: Date): Promise<ApprovalRequest> {
    const ti = await this.airflow.getTaskInstance(claim);
    // The operator registers from its own execute(): only that running try may ask.
    if (ti.try_number !== claim.try_number || ti.state !== 'running') {
      throw refuse('try_number', `try ${claim.try_number} of this task is not running (Airflow: try ${ti.try_number}, ${ti.state ?? 'no state'})`);
    }
    const [run, dag] = await Promise.all([this.airflow.getDagRun(claim.dag_id, claim.run_id), this.airflow.getDag(claim.dag_id)]);
    return {
      ...claim,
      created_at: now.toISOString(),
      requester: run.triggering_user_name ?? null,
      tags: dag.tags.map((t) => t.name).sort(),
      owners: dag.owners ?? [],
      values: { ...(run.conf ?? {}) },
    };
  }
}
