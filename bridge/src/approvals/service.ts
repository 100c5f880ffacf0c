import { ApiError, conflict, forbidden, notFound } from '../http/errors.js';
import type { Person } from '../identity/tokens.js';
import { effect } from '../outbox/effects.js';
import {
  type ApproverRef,
  type Level,
  type LevelTally,
  type Policy,
  type PolicySet,
  checkVote,
  dueAt,
  evaluateLevel,
  isParallel,
  isRejecting,
  selectPolicy,
} from '../policies/index.js';
import { hitlFormProblem } from './hitl-form.js';
import { signalEffects } from './signals.js';
import type { ApprovalListQuery, ApprovalState, Outcome, Progress, VoteRequest } from './schemas.js';
import { type ApprovalRequest, type ApprovalStore, type LockedApproval, type StoredApproval, type TaskTryKey, encodeCursor } from './store.js';

/**
 * Airflow 3.3.2 fails a HITL task answered before the scheduler has processed the executor event of the
 * workload that parked it (it then sees "success" for a task it has already re-queued). That event can
 * come up to `[workers] min_heartbeat_interval` (5 s) after parking, plus a scheduler loop; so the answer
 * to a request younger than this waits. No person decides that fast; automated voters just wait a little.
 */
export const DEFAULT_HITL_SETTLE_MS = 10_000;

/** Where policies come from: the watched file, or a fixed set. */
export interface PolicySource {
  current(): PolicySet;
}

export interface VoteContext {
  channel: string;
  idempotencyKey: string | null;
}

/** What Airflow did to a request the bridge had not decided. */
export type AirflowResolution =
  | { kind: 'gone' }
  | { kind: 'answered'; option: string; params_input: Record<string, unknown>; by: string | null };

/** What happened to an approval, announced after it committed (to notify people, apply effects, count). */
export type ApprovalEvent =
  | { kind: 'registered'; approval: StoredApproval }
  | { kind: 'level_opened'; approval: StoredApproval }
  | { kind: 'decided'; approval: StoredApproval };

/** Approvers an escalation added to one level of an approval: a user name, or `role:NAME`. */
export interface EscalatedApprover {
  level: number;
  approver: string;
}

/** What a deadline does to a pending approval: answer Airflow with an option, or fail the task. */
export type DeadlineOutcome = { kind: 'answer'; option: string } | { kind: 'fail' };

export interface ApprovalServiceOptions {
  store: ApprovalStore;
  policies: PolicySource;
  /** Escalated approvers by approval id; escalations widen who may decide the level they were added to. */
  escalated?: (approvalIds: readonly string[]) => Promise<Map<string, EscalatedApprover[]>>;
  /** Called after each change committed; listeners must not throw. */
  onEvent: (event: ApprovalEvent) => void;
  now?: () => Date;
  hitlSettleMs?: number;
}

/** The note written on the task instance, so Airflow's own UI shows who decided and why. */
export function decisionNote(state: ApprovalState, approval: StoredApproval, policyVersion: string): string {
  const lines = approval.votes
    .filter((v) => !v.replaced)
    .map((v) => `${v.option} by ${v.user} via ${v.channel}${v.reason ? `: ${v.reason}` : ''}`);
  return [`airgate: ${state} (policy ${approval.policy ?? 'none'} @ ${policyVersion})`, ...lines].join('\n');
}

export type ApprovalView = StoredApproval & { progress: Progress | null };

const taskKey = (a: StoredApproval) => ({ dag_id: a.dag_id, run_id: a.run_id, task_id: a.task_id, map_index: a.map_index });

/** Approval rules: policies, levels, quorum, self-approval, forms. Knows nothing of HTTP or SQL. */
export class ApprovalService {
  private readonly store: ApprovalStore;
  private readonly policies: PolicySource;
  private readonly onEvent: (event: ApprovalEvent) => void;
  private readonly now: () => Date;
  private readonly hitlSettleMs: number;
  private readonly escalated: (approvalIds: readonly string[]) => Promise<Map<string, EscalatedApprover[]>>;

  constructor(options: ApprovalServiceOptions) {
    this.store = options.store;
    this.policies = options.policies;
    this.onEvent = options.onEvent;
    this.now = options.now ?? (() => new Date());
    this.hitlSettleMs = options.hitlSettleMs ?? DEFAULT_HITL_SETTLE_MS;
    this.escalated = options.escalated ?? (async () => new Map());
  }

  /** Registers a request (idempotent on the task try) under the policy that matches it now. */
  async register(request: ApprovalRequest, channel: string): Promise<StoredApproval> {
    const set = this.policies.current();
    const policy = selectPolicy(set, request);
    const due = policy ? dueAt(policy, new Date(request.created_at)) : null;
    const { approval, created } = await this.store.register(
      { ...request, policy: policy?.name ?? null, policy_version: set.version, due_at: due?.toISOString() ?? null },
      channel,
    );
    if (created) this.onEvent({ kind: 'registered', approval });
    return approval;
  }

  findByTaskTry(key: TaskTryKey): Promise<StoredApproval | undefined> {
    return this.store.findByTaskTry(key);
  }

  findLatest(key: Omit<TaskTryKey, 'try_number'>): Promise<StoredApproval | undefined> {
    return this.store.findLatest(key);
  }

  async get(id: string): Promise<StoredApproval> {
    const approval = await this.store.get(id);
    if (!approval) throw notFound(`approval ${id} not found`);
    return approval;
  }

  /** The approval as a person sees it: with where its current level stands under today's policies. */
  async view(id: string): Promise<ApprovalView> {
    const approval = await this.get(id);
    return this.withProgress(approval, (await this.escalated([id])).get(id));
  }

  withProgress(approval: StoredApproval, escalated: readonly EscalatedApprover[] = []): ApprovalView {
    const set = this.policies.current();
    const policy = selectPolicy(set, approval);
    if (!policy) return { ...approval, progress: null };
    const level = this.levelOf(policy, approval, escalated);
    const tally = this.tally(set, policy, level, approval);
    return {
      ...approval,
      progress: {
        levels: policy.levels.length,
        level_name: level.name,
        needed: tally.needed,
        approvals: tally.approvals,
        rejections: tally.rejections,
      },
    };
  }

  /**
   * A page of approvals; `mine` keeps those the person may vote on now. Eligibility depends on the policies
   * in force, not on stored columns, so "mine" filters store pages until the page is full.
   */
  async list(query: ApprovalListQuery, person: Person): Promise<{ items: ApprovalView[]; next_cursor: string | null }> {
    if (!query.mine) {
      const page = await this.store.list(query);
      const escalated = await this.escalated(page.items.map((a) => a.id));
      return { items: page.items.map((a) => this.withProgress(a, escalated.get(a.id))), next_cursor: page.next_cursor };
    }
    const items: ApprovalView[] = [];
    let cursor = query.cursor;
    for (;;) {
      const page = await this.store.list({ ...query, cursor, limit: Math.max(query.limit, 100) });
      const escalated = await this.escalated(page.items.map((a) => a.id));
      for (const approval of page.items) {
        if (!this.canVote(approval, person, escalated.get(approval.id))) continue;
        items.push(this.withProgress(approval, escalated.get(approval.id)));
        if (items.length === query.limit) {
          // The next page starts after this approval, not after the whole store page.
          return { items, next_cursor: encodeCursor(approval) };
        }
      }
      if (!page.next_cursor) return { items, next_cursor: null };
      cursor = page.next_cursor;
    }
  }

  /** Whether `person` may vote on the approval's open level now (for the "mine" inbox). */
  canVote(approval: StoredApproval, person: Person, escalated: readonly EscalatedApprover[] = []): boolean {
    if (approval.state !== 'pending') return false;
    const set = this.policies.current();
    const policy = selectPolicy(set, approval);
    if (!policy) return false;
    const level = this.levelOf(policy, approval, escalated);
    const check = checkVote(level, person, { option: approval.options[0] ?? '', reason: 'x', params_input: {} }, {
      set,
      policy,
      requester: approval.requester,
    });
    return check.ok || check.kind === 'form_invalid';
  }

  async vote(id: string, person: Person, input: VoteRequest, ctx: VoteContext): Promise<ApprovalView> {
    if (ctx.idempotencyKey && (await this.store.findVoteByIdempotencyKey(id, person.user, ctx.idempotencyKey))) {
      return this.view(id);
    }
    const set = this.policies.current();
    const at = this.now().toISOString();
    // Read before the lock (the store's transaction is its own); escalations are only ever added, so a stale read
    // can only refuse someone escalated in the last instant, who may simply vote again.
    const escalated = (await this.escalated([id])).get(id) ?? [];
    // A refusal is audited and committed, then raised once the transaction has ended.
    const result = await this.store.withLockedApproval(id, async (locked) => {
      try {
        return { change: await this.applyVote(locked, set, person, input, ctx, at, escalated) };
      } catch (err) {
        if (!(err instanceof ApiError) || err.status === 409) throw err;
        await locked.audit({
          actor: person.user,
          action: 'vote.refused',
          channel: ctx.channel,
          reason: input.reason ?? null,
          details: { option: input.option, status: err.status, code: err.code, message: err.message, policy_version: set.version },
        });
        return { refusal: err };
      }
    });
    if (!result) throw notFound(`approval ${id} not found`);
    if ('refusal' in result) throw result.refusal;
    const view = await this.view(id);
    if (result.change) this.onEvent({ kind: result.change, approval: view });
    return view;
  }

  /** Records the vote and moves the approval on; returns what changed beyond the vote itself. */
  private async applyVote(
    locked: LockedApproval,
    set: PolicySet,
    person: Person,
    input: VoteRequest,
    ctx: VoteContext,
    at: string,
    escalated: readonly EscalatedApprover[],
  ): Promise<'level_opened' | 'decided' | null> {
    const approval = locked.approval;
    if (approval.state !== 'pending') throw conflict(`approval is already ${approval.state}`);
    if (!approval.options.includes(input.option)) {
      throw new ApiError(422, 'invalid_option', `option must be one of ${approval.options.join(', ')}`, 'option');
    }
    const policy = selectPolicy(set, approval);
    if (!policy) throw forbidden('no policy covers this approval, so nobody may decide it');
    const levelIndex = Math.min(approval.level, policy.levels.length);
    const level = this.levelOf(policy, approval, escalated);
    const check = checkVote(level, person, input, { set, policy, requester: approval.requester });
    if (!check.ok) throw new ApiError(check.status, check.kind, check.message, 'field' in check ? check.field : undefined);
    const rejecting = isRejecting(input.option);
    const formProblem = rejecting ? null : hitlFormProblem(approval.params, input.params_input ?? {});
    if (formProblem) throw new ApiError(422, 'form_invalid', formProblem.message, formProblem.field);

    const vote = {
      user: person.user,
      role: person.role,
      option: input.option,
      reason: input.reason ?? null,
      channel: ctx.channel,
      params_input: input.params_input ?? null,
      idempotency_key: ctx.idempotencyKey,
      level: levelIndex,
    };
    const { replaced } = await locked.recordVote(vote, at);
    await locked.audit({
      actor: person.user,
      action: replaced ? 'vote.replaced' : 'vote.recorded',
      channel: ctx.channel,
      reason: vote.reason,
      details: { option: vote.option, level: levelIndex, level_name: level.name, policy: policy.name, policy_version: set.version },
    });

    const votes = [...approval.votes.filter((v) => !(v.user === person.user && v.level === levelIndex)), { ...vote, at, replaced: false }];
    const tally = this.tally(set, policy, level, { ...approval, votes });
    const base = { policy: policy.name, policy_version: set.version };
    if (tally.status === 'open') {
      await locked.update(base);
      return null;
    }
    if (tally.status === 'approved' && levelIndex < policy.levels.length) {
      await locked.update({ ...base, level: levelIndex + 1 });
      await locked.audit({
        actor: 'system',
        action: 'level.opened',
        details: { level: levelIndex + 1, level_name: policy.levels[levelIndex]!.name, after: level.name, policy_version: set.version },
      });
      return 'level_opened';
    }
    const state: ApprovalState = tally.status === 'approved' ? 'approved' : 'rejected';
    const params_input = rejecting ? {} : completeParams(approval.params, input.params_input ?? {});
    const outcome: Outcome = { option: input.option, params_input };
    await locked.update({ ...base, final: { state, outcome, at } });
    const decided = { ...approval, ...base, state, outcome, decided_at: at, votes: votes.map((v) => ({ ...v, reason: v.reason ?? null })) };
    const hitl = [
      {
        ...effect('answer_hitl', { key: taskKey(approval), chosen_options: [input.option], params_input }),
        not_before: new Date(Date.parse(approval.created_at) + this.hitlSettleMs).toISOString(),
      },
      effect('task_note', { key: taskKey(approval), note: decisionNote(state, decided, set.version) }),
    ];
    // An external approval has no HITL task: its decision reaches Airflow only through its signals.
    await locked.addEffects([...(approval.external ? [] : hitl), ...signalEffects(decided)], at);
    await locked.audit({
      actor: 'system',
      action: 'approval.decided',
      details: {
        state,
        option: input.option,
        deciding_vote: person.user,
        policy: policy.name,
        policy_version: set.version,
        tally,
        ...signalsAudit(approval),
      },
    });
    return 'decided';
  }

  /** Closes a pending approval that Airflow resolved on its own (timeout defaults, a cleared task, a deleted run). */
  async closeFromAirflow(id: string, resolution: AirflowResolution): Promise<void> {
    const at = this.now().toISOString();
    await this.store.withLockedApproval(id, async (locked) => {
      if (locked.approval.state !== 'pending') return;
      const final =
        resolution.kind === 'gone'
          ? { state: 'cancelled' as const, outcome: null, at }
          : {
              // No responder means Airflow's own timeout took the defaults.
              state: resolution.by ? (isRejecting(resolution.option) ? 'rejected' : 'approved') : ('expired' as ApprovalState),
              outcome: { option: resolution.option, params_input: resolution.params_input },
              at,
            };
      await locked.update({ final });
      await locked.audit({ actor: 'system', action: 'approval.closed', details: { by_airflow: resolution } });
    });
  }

  /**
   * Applies a policy's deadline to a still-pending approval: it ends `expired`, and Airflow is answered with the
   * deadline's option (form defaults as input) or the task is failed. Nothing happens to a decided approval, so a
   * timer that fires again after a crash changes nothing. Returns whether it applied.
   */
  async applyDeadline(id: string, outcome: DeadlineOutcome, at: string): Promise<boolean> {
    const set = this.policies.current();
    const done = await this.store.withLockedApproval(id, async (locked) => {
      const approval = locked.approval;
      if (approval.state !== 'pending') return false;
      const final: Outcome | null = outcome.kind === 'answer' ? { option: outcome.option, params_input: completeParams(approval.params, {}) } : null;
      await locked.update({ final: { state: 'expired', outcome: final, at } });
      const expired = { ...approval, state: 'expired' as const, outcome: final, decided_at: at };
      const note = `${decisionNote('expired', expired, set.version)}\ndeadline: ${final ? `answered ${final.option}` : 'task failed'}`;
      const hitl = [
        final
          ? {
              ...effect('answer_hitl', { key: taskKey(approval), chosen_options: [final.option], params_input: final.params_input }),
              not_before: new Date(Date.parse(approval.created_at) + this.hitlSettleMs).toISOString(),
            }
          : effect('fail_task', { key: taskKey(approval) }),
        effect('task_note', { key: taskKey(approval), note }),
      ];
      await locked.addEffects([...(approval.external ? [] : hitl), ...signalEffects(expired)], at);
      await locked.audit({
        actor: 'system',
        action: 'approval.deadline',
        details: { outcome, due_at: approval.due_at, policy: approval.policy, policy_version: set.version, ...signalsAudit(approval) },
        at,
      });
      return true;
    });
    if (done) this.onEvent({ kind: 'decided', approval: await this.view(id) });
    return done === true;
  }

  /** The open level as it stands for this approval: the policy's level, widened by escalated approvers. */
  private levelOf(policy: Policy, approval: StoredApproval, escalated: readonly EscalatedApprover[]): Level {
    const levelIndex = Math.min(approval.level, policy.levels.length);
    const level = policy.levels[levelIndex - 1]!;
    const added = escalated.filter((e) => e.level === levelIndex).map((e) => toRef(e.approver));
    if (added.length === 0) return level;
    // An escalated approver joins every group of the level: escalation hands them the level's decision.
    if (isParallel(level)) return { ...level, parallel: level.parallel.map((g) => ({ ...g, approvers: [...g.approvers, ...added] })) };
    return { ...level, approvers: [...level.approvers, ...added] };
  }

  private tally(set: PolicySet, policy: Policy, level: Level, approval: StoredApproval): LevelTally {
    const levelIndex = Math.min(approval.level, policy.levels.length);
    const votes = approval.votes
      .filter((v) => v.level === levelIndex && !v.replaced)
      .map((v) => ({ user: v.user, role: v.role, option: v.option, rejecting: isRejecting(v.option) }));
    return evaluateLevel(level, votes, { set, policy, requester: approval.requester });
  }
}

/** What a decision publishes, for its audit entry (each signal's delivery is audited by the outbox too). */
function signalsAudit(approval: StoredApproval) {
  return approval.signals.length ? { external: approval.external, signals: approval.signals.map((s) => s.kind) } : {};
}

function toRef(approver: string): ApproverRef {
  const role = /^role:(.+)$/.exec(approver)?.[1];
  return role ? ({ kind: 'role', name: role } as ApproverRef) : { kind: 'user', name: approver };
}

/** Airflow wants every form field in the answer: the voter's input over the form's defaults. */
function completeParams(params: Record<string, unknown>, input: Record<string, unknown>): Record<string, unknown> {
  const defaults = Object.fromEntries(
    Object.entries(params).map(([name, spec]) => [name, (spec as { value?: unknown } | null)?.value ?? null]),
  );
  return { ...defaults, ...input };
}
