import { Refusal, conflict, forbidden, notFound, unprocessable } from '../refusal.js';
import type { Person } from '../identity/tokens.js';
import type { DagScope } from '../identity/dag-access.js';
import { closingEffects, taskKey } from '../effects/build.js';
import {
  type ApproverRef,
  type Level,
  type LevelContext,
  type LevelTally,
  type Policy,
  type PolicySet,
  checkDelegatedVote,
  checkVote,
  choiceOf,
  knownApprovers,
  mayDecide,
  dueAt,
  evaluateLevel,
  isEligible,
  isParallel,
  levelContextOf,
  meaningOf,
  REVIEW_OPTIONS,
  requestersOf,
  optionOutcomes,
  resolvePolicy,
  selectPolicy,
} from '../policies/index.js';
import { quorumWarnings } from '../policies/dry-run.js';
import type { NewAuditEntry } from '../audit/trail.js';
import { type Receipts, receiptDigest, receiptLine } from '../receipts/receipt.js';
import { type ReviewedContent, contentDigest } from './content.js';
import { applies, seatConflict, stateOf } from '../delegations/rules.js';
import type { DelegationRecord } from '../delegations/store.js';
import { hitlFormProblem } from './hitl-form.js';
import { BREAK_GLASS_CHANNEL } from './signals.js';
import type { Approval, ApprovalListQuery, ApprovalState, BypassRequest, Claim, Outcome, VoteRequest } from './schemas.js';
import { type ApprovalRequest, type ApprovalStore, type LockedApproval, type StoredApproval, type TaskTryKey, encodeCursor } from './store.js';

/** Where policies come from: the watched file, or a fixed set. */
export interface PolicySource {
  current(): PolicySet;
}

export interface VoteContext {
  channel: string;
  idempotencyKey: string | null;
  /**
   * What Airflow lets the voter read and change, for votes with the person's Airflow token (API, UI). Channel votes
   * (a signed link, a mapped Slack user, a signed webhook) carry no Airflow token to ask with: null, policy only.
   */
  scope?: DagScope | null;
  /** When a vote deferred while Airflow was unreachable first arrived (it is counted later). */
  receivedAt?: string;
  /** The bulk decision (POST /api/v1/queue/decisions) this vote is one item of, audited with it. */
  batch?: string;
}

/** What Airflow did to a request the bridge had not decided. */
export type AirflowResolution =
  /** The task was cleared or its run deleted (cancelled), or it failed with nobody behind it: Airflow's timeout (expired). */
  | { kind: 'gone'; expired?: boolean }
  | { kind: 'answered'; option: string; params_input: Record<string, unknown>; by: string | null }
  /** The task left its wait without an answer: someone set its state in Airflow (`by`, from Airflow's event log). */
  | { kind: 'state_changed'; state: string; by: string | null; at: string | null; event: string | null; note: string | null };

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
  /** Delegations not ended nor revoked at an instant (store and policies file); none when omitted. */
  delegations?: (at: string) => Promise<DelegationRecord[]>;
  /** Called after each change committed; listeners must not throw. */
  onEvent: (event: ApprovalEvent) => void;
  /** Signs every final decision's receipt, in the decision's transaction. */
  receipts: Receipts;
  now?: () => Date;
}

/** One vote as notes and messages tell it: "Approve by bob for alice via ui: reason". */
export const voteSummary = (v: Pick<StoredApproval['votes'][number], 'option' | 'user' | 'on_behalf_of' | 'channel' | 'reason'>): string =>
  `${v.option} by ${v.user}${v.on_behalf_of ? ` for ${v.on_behalf_of}` : ''} via ${v.channel}${v.reason ? `: ${v.reason}` : ''}`;

/**
 * The note written on the task instance, so Airflow's own UI shows who decided and why, and which receipt proves it
 * (the JWS itself is too long for a note: the operator puts it in the task's XCom).
 */
export function decisionNote(state: ApprovalState, approval: StoredApproval, policyVersion: string, receipt: string): string {
  const lines = approval.votes.filter((v) => !v.replaced).map(voteSummary);
  // The receipt's line comes before the votes: a long note is cut at Airflow's limit, never the receipt's id.
  return [`airgate: ${state} (policy ${approval.policy ?? 'none'} @ ${policyVersion})`, receiptLine(receipt, approval.content_digest), ...lines].join('\n');
}

export type ApprovalView = StoredApproval & Pick<Approval, 'progress' | 'policy_error' | 'option_outcomes' | 'break_glass' | 'warnings' | 'delegations'>;

/** What a break-glass review's task id ends with: `@` is no character of an Airflow task id (KEY_REGEX, airflow/sdk/definitions/_internal/node.py:37), so none collides. */
export const REVIEW_TASK_SUFFIX = '@review';

// Store pages the "mine" inbox reads at a time: few large reads cost less than many small ones.
const MINE_SCAN_PAGE = 1000;


/** Approval rules: policies, levels, quorum, self-approval, forms. Knows nothing of HTTP or SQL. */
export class ApprovalService {
  private readonly store: ApprovalStore;
  private readonly policies: PolicySource;
  private readonly onEvent: (event: ApprovalEvent) => void;
  private readonly now: () => Date;
  private readonly escalated: (approvalIds: readonly string[]) => Promise<Map<string, EscalatedApprover[]>>;
  private readonly receipts: Receipts;
  private readonly delegations: (at: string) => Promise<DelegationRecord[]>;

  constructor(options: ApprovalServiceOptions) {
    this.store = options.store;
    this.receipts = options.receipts;
    this.policies = options.policies;
    this.onEvent = options.onEvent;
    this.now = options.now ?? (() => new Date());
    this.escalated = options.escalated ?? (async () => new Map());
    this.delegations = options.delegations ?? (async () => []);
  }

  /** Registers a request (idempotent on the task try) under the policy that matches it now. */
  async register(request: ApprovalRequest, channel: string): Promise<StoredApproval> {
    const set = this.policies.current();
    const { policy, policy_error } = resolvePolicy(set, request);
    const due = policy ? dueAt(policy, new Date(request.created_at)) : null;
    const timeout_at = request.timeout_at ? new Date(request.timeout_at).toISOString() : null;
    // Registered all the same (escalations or an edit of the file may still make it decidable), but audited and shown.
    const warnings = policy ? quorumWarnings(set, policy, { requester: request.requester, owners: request.owners ?? [] }) : [];
    const { approval, created } = await this.store.register(
      { ...request, timeout_at, policy: policy?.name ?? null, policy_version: set.version, due_at: due?.toISOString() ?? null, policy_error, warnings },
      channel,
    );
    if (created) this.onEvent({ kind: 'registered', approval });
    return approval;
  }

  /**
   * A repeated registration adds only what the first one could not know: Airflow's response timeout. What people are
   * shown stays the first registration's (their votes name its digest); an announcement of other content for the same
   * try is audited (`approval.content_mismatch`) and changes nothing.
   */
  async registeredAgain(known: StoredApproval, announced: ReviewedContent & { timeout_at?: string | null }): Promise<StoredApproval> {
    const digest = contentDigest(announced);
    if (digest !== known.content_digest) {
      await this.store.audit({
        actor: 'system',
        action: 'approval.content_mismatch',
        channel: 'push',
        approval_id: known.id,
        details: { kept: known.content_digest, announced: digest },
      });
    }
    const timeoutAt = announced.timeout_at;
    if (!timeoutAt || known.timeout_at !== null || known.state !== 'pending') return known;
    return (await this.store.addTimeout(known.id, new Date(timeoutAt).toISOString())) ?? known;
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

  /** The approval as `scope`'s person may see it: one of a DAG Airflow does not let them read is not found. */
  async viewFor(id: string, scope: DagScope): Promise<ApprovalView> {
    const view = await this.view(id);
    if (!scope.mayRead(view.dag_id)) throw notFound(`approval ${id} not found`);
    return view;
  }

  /** The approval as a person sees it: with where its current level stands under today's policies. */
  async view(id: string): Promise<ApprovalView> {
    const approval = await this.get(id);
    return this.withProgress(approval, (await this.escalated([id])).get(id), await this.delegations(this.now().toISOString()));
  }

  /** `delegations`: those in force now, of which the view lists the ones that apply to the open level. */
  withProgress(stored: StoredApproval, escalated: readonly EscalatedApprover[] = [], delegations: readonly DelegationRecord[] = []): ApprovalView {
    // Only a pending approval's live claim holds anything.
    const approval = { ...stored, claim: stored.state === 'pending' ? liveClaim(stored.claim, this.now().toISOString()) : null };
    const set = this.policies.current();
    const { policy, policy_error } = resolvePolicy(set, approval);
    // A final approval keeps no error: nothing is held any more.
    const held = approval.state === 'pending' ? policy_error : null;
    const option_outcomes = optionOutcomes(set, policy, approval.options);
    const break_glass = approval.state === 'pending' && policy?.break_glass !== undefined;
    if (!policy) return { ...approval, progress: null, policy_error: held, option_outcomes, break_glass, warnings: [], delegations: [] };
    const level = this.levelOf(policy, approval, escalated);
    const open = Math.min(approval.level, policy.levels.length);
    // Judged with the open level as escalations widened it: someone they added may be who makes the quorum.
    const widened = { ...policy, levels: policy.levels.map((l, i) => (i === open - 1 ? level : l)) };
    const warnings = approval.state === 'pending' ? quorumWarnings(set, widened, approval, open) : [];
    const tally = this.tally(set, policy, level, approval);
    const at = this.now().toISOString();
    return {
      ...approval,
      policy_error: null,
      option_outcomes,
      break_glass,
      warnings,
      delegations: approval.state === 'pending' ? this.applicable(set, policy, level, approval, delegations, at).map((d) => ({ ...d, state: stateOf(d, at) })) : [],
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
   * in force, not on stored columns, so "mine" filters store pages until the page is full. Only approvals of
   * `readable` DAGs (those Airflow lets the person read) are listed.
   */
  async list(
    query: ApprovalListQuery,
    person: Person,
    readable: ReadonlySet<string>,
  ): Promise<{ items: ApprovalView[]; next_cursor: string | null }> {
    const delegations = await this.delegations(this.now().toISOString());
    if (!query.mine) {
      const page = await this.store.list(query, readable);
      const escalated = await this.escalated(page.items.map((a) => a.id));
      return { items: page.items.map((a) => this.withProgress(a, escalated.get(a.id), delegations)), next_cursor: page.next_cursor };
    }
    const items: ApprovalView[] = [];
    let cursor = query.cursor;
    for (;;) {
      const page = await this.store.list({ ...query, cursor, limit: MINE_SCAN_PAGE }, readable);
      const escalated = await this.escalated(page.items.map((a) => a.id));
      for (const approval of page.items) {
        if (!this.canVote(approval, person, escalated.get(approval.id), delegations)) continue;
        items.push(this.withProgress(approval, escalated.get(approval.id), delegations));
        if (items.length === query.limit) {
          // The next page starts after this approval, not after the whole store page.
          return { items, next_cursor: encodeCursor(approval) };
        }
      }
      if (!page.next_cursor) return { items, next_cursor: null };
      cursor = page.next_cursor;
    }
  }

  /**
   * Whether `person` may vote on the approval's open level now (for the "mine" inbox): in their own name, or, with
   * `delegations` (those in force), as deputy for someone.
   */
  canVote(approval: StoredApproval, person: Person, escalated: readonly EscalatedApprover[] = [], delegations: readonly DelegationRecord[] = []): boolean {
    if (approval.state !== 'pending') return false;
    const set = this.policies.current();
    const policy = selectPolicy(set, approval);
    if (!policy) return false;
    const level = this.levelOf(policy, approval, escalated);
    const ctx = this.context(set, policy, approval);
    const probe = { option: approval.options[0] ?? '', reason: 'x', params_input: {} };
    const allowed = (check: ReturnType<typeof checkVote>) => check.ok || check.kind === 'form_invalid';
    const at = this.now().toISOString();
    const handedOn = delegations.some((d) => d.from === person.user && applies(d, policy.name, at));
    if (!handedOn && allowed(checkVote(level, person, probe, ctx))) return true;
    return delegations.some((d) => d.to === person.user && applies(d, policy.name, at) && allowed(checkDelegatedVote(level, person, d.from, probe, ctx)));
  }

  async vote(id: string, person: Person, input: VoteRequest, ctx: VoteContext): Promise<ApprovalView> {
    // Asked before the lock (Airflow is not called inside a transaction); a refusal is audited under the lock.
    const airflowAllows = ctx.scope ? await this.airflowAllows(id, ctx.scope) : true;
    const set = this.policies.current();
    const at = this.now().toISOString();
    // Read before the lock (the store's transaction is its own); escalations are only ever added, so a stale read
    // can only refuse someone escalated in the last instant, who may simply vote again.
    const escalated = (await this.escalated([id])).get(id) ?? [];
    // Read before the lock too: a delegation revoked in the very instant of a vote may still admit that one vote.
    const delegations = await this.delegations(at);
    const change = await this.refusalsAudited(
      id,
      async (locked) => {
        // A retry of a vote already counted (its answer was lost, or it was also kept for Airflow): the same answer.
        if (ctx.idempotencyKey && (await locked.votedWithKey(person.user, ctx.idempotencyKey))) return null;
        return this.applyVote(locked, set, person, input, ctx, at, escalated, airflowAllows, delegations);
      },
      (err) => ({
        actor: person.user,
        action: 'vote.refused',
        channel: ctx.channel,
        reason: input.reason ?? null,
        details: {
          option: input.option,
          ...(input.on_behalf_of ? { on_behalf_of: input.on_behalf_of } : {}),
          kind: err.kind,
          code: err.code,
          message: err.message,
          policy_version: set.version,
          ...batchAudit(ctx),
        },
      }),
    );
    const view = await this.view(id);
    if (change) this.onEvent({ kind: change, approval: view });
    return view;
  }

  /** Whether Airflow lets the voter change the approval's task; one of a DAG they may not read is not found. */
  async airflowAllows(id: string, scope: DagScope): Promise<boolean> {
    const approval = await this.get(id);
    if (!scope.mayRead(approval.dag_id)) throw notFound(`approval ${id} not found`);
    // A break-glass review has no task of its own: reviewing needs what deciding the bypassed task needed.
    const task_id = approval.review_of ? approval.task_id.slice(0, -REVIEW_TASK_SUFFIX.length) : approval.task_id;
    return scope.mayDecide({ ...taskKey(approval), task_id });
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
    airflowAllows: boolean,
    delegations: readonly DelegationRecord[],
  ): Promise<'level_opened' | 'decided' | null> {
    const approval = locked.approval;
    if (approval.state !== 'pending') throw conflict(`approval is already ${approval.state}`);
    claimFor(person.user, approval.claim, at);
    if (!airflowAllows) {
      throw new Refusal('forbidden', 'airflow_forbidden', `Airflow does not let ${person.user} change tasks of DAG ${approval.dag_id}, which deciding needs`);
    }
    if (!approval.options.includes(input.option)) {
      throw unprocessable('invalid_option', `option must be one of ${approval.options.join(', ')}`, 'option');
    }
    const { policy, policy_error } = resolvePolicy(set, approval);
    if (policy_error) throw conflict(`this approval is held until the policies file or the request is fixed: ${policy_error}`, 'policy_error');
    if (!policy) throw forbidden('no policy covers this approval, so nobody may decide it');
    const levelIndex = Math.min(approval.level, policy.levels.length);
    const level = this.levelOf(policy, approval, escalated);
    const judged = this.context(set, policy, approval);
    const delegator = input.on_behalf_of ?? null;
    const delegation = delegator === null ? null : delegations.find((d) => d.from === delegator && d.to === person.user && applies(d, policy.name, at));
    if (delegator !== null && !delegation) {
      throw forbidden(`${delegator} has no delegation to ${person.user} in force now for policy "${policy.name}"`, 'not_delegated', 'on_behalf_of');
    }
    const check = delegator === null ? checkVote(level, person, input, judged) : checkDelegatedVote(level, person, delegator, input, judged);
    if (!check.ok) throw new Refusal(check.refusal, check.kind, check.message, 'field' in check ? check.field : undefined);
    if (delegator === null) {
      const handed = delegations.find((d) => d.from === person.user && applies(d, policy.name, at));
      if (handed) throw conflict(`${person.user} delegated their vote to ${handed.to} until ${handed.ends_at}; revoke the delegation to vote yourself`, 'vote_delegated');
    }
    const seat = seatConflict(approval.votes, person.user, delegator ?? person.user);
    if (seat) throw conflict(seat.message, seat.code);
    const rejecting = meaningOf(set, policy, input.option) === 'reject';
    // A "no" needs no form input, but what it gives (feedback, say) reaches Airflow too, so it must fit the form.
    const given = input.params_input ?? {};
    const formProblem = rejecting && Object.keys(given).length === 0 ? null : hitlFormProblem(approval.params, given);
    if (formProblem) throw unprocessable('form_invalid', formProblem.message, formProblem.field);

    const vote = {
      user: person.user,
      role: person.role,
      option: input.option,
      reason: input.reason ?? null,
      channel: ctx.channel,
      params_input: input.params_input ?? null,
      idempotency_key: ctx.idempotencyKey,
      level: levelIndex,
      content_digest: approval.content_digest,
      on_behalf_of: delegator,
    };
    const { replaced } = await locked.recordVote(vote, at);
    await locked.audit({
      actor: person.user,
      action: replaced ? 'vote.replaced' : 'vote.recorded',
      channel: ctx.channel,
      reason: vote.reason,
      details: {
        option: vote.option,
        ...(delegation ? { on_behalf_of: delegation.from, delegation_id: delegation.id } : {}),
        level: levelIndex,
        level_name: level.name,
        policy: policy.name,
        policy_version: set.version,
        ...(ctx.receivedAt ? { received_at: ctx.receivedAt } : {}),
        ...batchAudit(ctx),
      },
    });

    const votes = [...approval.votes.filter((v) => !(v.user === person.user && v.level === levelIndex)), { ...vote, at, replaced: false }];
    const tally = this.tally(set, policy, level, { ...approval, votes });
    // The claimer's vote ends their claim: the approval is free for the level's other voters.
    const base = { policy: policy.name, policy_version: set.version, ...(approval.claim ? { claim: null } : {}) };
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
    const deciding = this.decidingVote(set, policy, approval, votes, levelIndex, tally.choice);
    const params_input = deciding.params_input ? completeParams(approval.params, deciding.params_input) : state === 'approved' ? completeParams(approval.params, {}) : {};
    const outcome: Outcome = { option: deciding.option, params_input };
    const decided = { ...approval, ...base, state, outcome, decided_at: at, votes: votes.map((v) => ({ ...v, reason: v.reason ?? null })) };
    const receipt = await this.receipts.sign(decided, set.version, at);
    await locked.update({ ...base, final: { state, outcome, at }, receipt });
    await locked.addEffects(closingEffects(decided, decisionNote(state, decided, set.version, receipt)), at);
    await locked.audit({
      actor: 'system',
      action: 'approval.decided',
      details: {
        state,
        option: outcome.option,
        deciding_vote: person.user,
        ...(delegator ? { deciding_vote_for: delegator } : {}),
        policy: policy.name,
        policy_version: set.version,
        tally,
        receipt: receiptDigest(receipt),
        ...signalsAudit(approval),
      },
    });
    return 'decided';
  }

  /**
   * Break-glass: someone the policy's `break_glass.allowed` names decides a pending approval at once, past its levels
   * and quorum, with a reason. Airflow is answered with an approving option (the form's defaults as input), the
   * approval ends `bypassed`, and a review (an approval of its own, for `break_glass.reviewers`, which the bypasser
   * may not decide) is opened in the same transaction. A refusal is audited (`bypass.refused`) and changes nothing.
   */
  async breakGlass(id: string, person: Person, input: BypassRequest, scope: DagScope | null): Promise<ApprovalView> {
    const airflowAllows = scope ? await this.airflowAllows(id, scope) : true;
    const set = this.policies.current();
    const at = this.now().toISOString();
    const reviewId = await this.refusalsAudited(
      id,
      (locked) => this.applyBypass(locked, set, person, input, at, airflowAllows),
      (err) => ({
        actor: person.user,
        action: 'bypass.refused',
        channel: BREAK_GLASS_CHANNEL,
        reason: input.reason,
        details: { kind: err.kind, code: err.code, message: err.message, policy_version: set.version },
      }),
    );
    const view = await this.view(id);
    this.onEvent({ kind: 'decided', approval: view });
    this.onEvent({ kind: 'registered', approval: await this.get(reviewId) });
    return view;
  }

  /**
   * Runs `work` on the locked approval. A refusal (other than a conflict with the approval's state) is audited as `refused`
   * says and committed, then raised once the transaction has ended; anything else rolls back.
   */
  private async refusalsAudited<T>(id: string, work: (locked: LockedApproval) => Promise<T>, refused: (err: Refusal) => NewAuditEntry): Promise<T> {
    const result = await this.store.withLockedApproval(id, async (locked): Promise<{ done: T } | { refusal: Refusal }> => {
      try {
        return { done: await work(locked) };
      } catch (err) {
        if (!(err instanceof Refusal) || err.kind === 'conflict') throw err;
        await locked.audit(refused(err));
        return { refusal: err };
      }
    });
    if (!result) throw notFound(`approval ${id} not found`);
    if ('refusal' in result) throw result.refusal;
    return result.done;
  }

  /** Checks the bypass against the policy, then decides the approval and opens its review; returns the review's id. */
  private async applyBypass(locked: LockedApproval, set: PolicySet, person: Person, input: BypassRequest, at: string, airflowAllows: boolean): Promise<string> {
    const approval = locked.approval;
    if (approval.state !== 'pending') throw conflict(`approval is already ${approval.state}`);
    if (approval.review_of) throw conflict('a break-glass review is decided by its reviewers; it cannot be bypassed');
    if (!airflowAllows) {
      throw new Refusal('forbidden', 'airflow_forbidden', `Airflow does not let ${person.user} change tasks of DAG ${approval.dag_id}, which bypassing needs`);
    }
    const policy = selectPolicy(set, approval);
    if (!policy?.break_glass) throw new Refusal('forbidden', 'break_glass_not_allowed', `policy "${approval.policy ?? 'none'}" allows no break-glass bypass of this approval`);
    if (!isEligible(set, policy.break_glass.allowed, person, approval.requester)) {
      throw new Refusal('forbidden', 'break_glass_not_allowed', `${person.user} is not allowed to break the glass under policy "${policy.name}"`);
    }
    if (!policy.self_approval && requestersOf(this.context(set, policy, approval)).includes(person.user)) {
      throw new Refusal('forbidden', 'self_approval', `policy "${policy.name}" does not let the requester bypass their own request`);
    }
    const option = input.option ?? approval.options.find((o) => meaningOf(set, policy, o) === 'approve');
    if (!option || !approval.options.includes(option) || meaningOf(set, policy, option) !== 'approve') {
      throw unprocessable('invalid_option', `a bypass answers with an approving option of ${approval.options.join(', ')}`, 'option');
    }
    const review_of = { approval_id: approval.id, policy: policy.name, by: person.user, reason: input.reason };
    const reviewRequest = {
      ...approval,
      task_id: `${approval.task_id}${REVIEW_TASK_SUFFIX}`,
      subject: `Review a break-glass bypass: ${approval.subject}`,
      body: `${person.user} bypassed this approval (${option}): ${input.reason}\n\n${approval.body ?? ''}`.trim(),
      options: [...REVIEW_OPTIONS],
      params: {},
      created_at: at,
      // The bypasser asks for the review, so the policy's self-approval rule keeps them from deciding it.
      requester: person.user,
      external: true,
      signals: [],
      timeout_at: null,
      review_of,
    };
    const reviewPolicy = resolvePolicy(set, reviewRequest).policy!;
    const reviewId = await locked.openReview({ ...reviewRequest, policy: reviewPolicy.name, policy_version: set.version, due_at: null });
    const outcome: Outcome = { option, params_input: completeParams(approval.params, {}) };
    const bypass = { by: person.user, reason: input.reason, at, review_id: reviewId };
    const bypassed = { ...approval, policy: policy.name, state: 'bypassed' as const, outcome, decided_at: at, bypass };
    const receipt = await this.receipts.sign(bypassed, set.version, at);
    await locked.update({ policy: policy.name, policy_version: set.version, bypass, final: { state: 'bypassed', outcome, at }, receipt });
    const note = `${decisionNote('bypassed', bypassed, set.version, receipt)}\nbreak-glass by ${person.user}: ${input.reason} (review ${reviewId})`;
    await locked.addEffects(closingEffects(bypassed, note), at);
    await locked.audit({
      actor: person.user,
      action: 'approval.bypassed',
      channel: BREAK_GLASS_CHANNEL,
      reason: input.reason,
      details: { break_glass: true, option, policy: policy.name, policy_version: set.version, review_id: reviewId, receipt: receiptDigest(receipt), ...signalsAudit(approval) },
    });
    return reviewId;
  }

  /**
   * Closes a pending approval that Airflow resolved on its own: its timeout took the defaults (expired), the task was
   * cleared or its run deleted (cancelled), or someone answered or set the task's state in Airflow instead of voting
   * (bypassed; who did it is audited, as Airflow's event log names them). Returns the state it closed with.
   */
  async closeFromAirflow(id: string, resolution: AirflowResolution): Promise<ApprovalState | null> {
    const at = this.now().toISOString();
    const closed = await this.store.withLockedApproval(id, async (locked): Promise<ApprovalState | null> => {
      const approval = locked.approval;
      if (approval.state !== 'pending') return null;
      const final = closing(resolution, at);
      const ended = { ...approval, state: final.state, outcome: final.outcome, decided_at: at };
      const receipt = await this.receipts.sign(ended, approval.policy_version, at);
      await locked.update({ final, receipt });
      await locked.audit({
        actor: final.state === 'bypassed' ? (bypasser(resolution) ?? 'unknown') : 'system',
        action: final.state === 'bypassed' ? 'approval.bypassed' : 'approval.closed',
        details: { by_airflow: resolution, receipt: receiptDigest(receipt) },
      });
      return final.state;
    });
    return closed ?? null;
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
      const expired = { ...approval, state: 'expired' as const, outcome: final, decided_at: at };
      const receipt = await this.receipts.sign(expired, set.version, at);
      await locked.update({ final: { state: 'expired', outcome: final, at }, receipt });
      const note = `${decisionNote('expired', expired, set.version, receipt)}\ndeadline: ${final ? `answered ${final.option}` : 'task failed'}`;
      await locked.addEffects(closingEffects(expired, note), at);
      await locked.audit({
        actor: 'system',
        action: 'approval.deadline',
        details: { outcome, due_at: approval.due_at, policy: approval.policy, policy_version: set.version, receipt: receiptDigest(receipt), ...signalsAudit(approval) },
        at,
      });
      return true;
    });
    if (done) this.onEvent({ kind: 'decided', approval: await this.view(id) });
    return done === true;
  }

  /** Delegations in force whose delegator may decide the open level (by name) and whose deputy did not request it: who may vote for whom. */
  private applicable(set: PolicySet, policy: Policy, level: Level, approval: StoredApproval, delegations: readonly DelegationRecord[], at: string): DelegationRecord[] {
    const refs = isParallel(level) ? level.parallel.flatMap((g) => g.approvers) : level.approvers;
    const approvers = new Set(knownApprovers(set, refs, approval.requester));
    const ctx = this.context(set, policy, approval);
    const requesters = requestersOf(ctx);
    return delegations.filter((d) => applies(d, policy.name, at) && approvers.has(d.from) && mayDecide(ctx, d.from) && !requesters.includes(d.to));
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

  private context(set: PolicySet, policy: Policy, approval: StoredApproval): LevelContext {
    return levelContextOf(set, policy, approval);
  }

  private tally(set: PolicySet, policy: Policy, level: Level, approval: StoredApproval): LevelTally {
    const levelIndex = Math.min(approval.level, policy.levels.length);
    const votes = approval.votes
      .filter((v) => v.level === levelIndex && !v.replaced)
      .map((v) => countedVote(set, policy, approval, v));
    return evaluateLevel(level, votes, this.context(set, policy, approval));
  }

  /**
   * The vote whose option and input answer Airflow: the latest vote for the choice that passed the level, or, for a
   * rejection, the latest vote that said no.
   */
  private decidingVote(set: PolicySet, policy: Policy, approval: StoredApproval, votes: readonly VoteLike[], levelIndex: number, choice: string | null): VoteLike {
    const atLevel = votes.filter((v) => v.level === levelIndex && !v.replaced).map((v) => ({ v, counted: countedVote(set, policy, approval, v) }));
    const found = atLevel.filter(({ counted }) => (choice === null ? counted.rejecting : !counted.rejecting && counted.choice === choice)).at(-1);
    return found!.v;
  }
}

interface VoteLike {
  user: string;
  on_behalf_of: string | null;
  role: string | null;
  option: string;
  level: number;
  replaced: boolean;
  params_input: Record<string, unknown> | null;
}

/** A stored vote as the rules count it: its meaning under the policy and the choice its form input makes. */
function countedVote(set: PolicySet, policy: Policy, approval: StoredApproval, v: VoteLike) {
  // A deputy's vote counts in the delegator's seat, who is eligible by name only (their role is not known).
  return {
    user: v.on_behalf_of ?? v.user,
    role: v.on_behalf_of ? null : v.role,
    option: v.option,
    rejecting: meaningOf(set, policy, v.option) === 'reject',
    choice: choiceOf(policy, v.option, completeParams(approval.params, v.params_input ?? {})),
  };
}

/** How Airflow's own resolution closes an approval. */
function closing(resolution: AirflowResolution, at: string): { state: ApprovalState; outcome: Outcome | null; at: string } {
  if (resolution.kind === 'gone') return { state: resolution.expired ? 'expired' : 'cancelled', outcome: null, at };
  if (resolution.kind === 'state_changed') return { state: 'bypassed', outcome: null, at };
  const outcome = { option: resolution.option, params_input: resolution.params_input };
  // No responder means Airflow's own timeout took the defaults; any responder answered around the bridge.
  return { state: resolution.by ? 'bypassed' : 'expired', outcome, at };
}

const bypasser = (resolution: AirflowResolution): string | null => (resolution.kind === 'gone' ? null : resolution.by);

/** The claim as it stands at `at`: an ended one holds nothing. */
export function liveClaim(claim: Claim | null, at: string): Claim | null {
  return claim && Date.parse(claim.until) > Date.parse(at) ? claim : null;
}

/** The live claim as `user` meets it: refused (409 `claimed`) while someone else holds it. */
export function claimFor(user: string, claim: Claim | null, at: string): Claim | null {
  const live = liveClaim(claim, at);
  if (live && live.by !== user) throw conflict(`${live.by} is reviewing this approval until ${live.until}; try again once they release it or the claim ends`, 'claimed');
  return live;
}

const batchAudit = (ctx: VoteContext) => (ctx.batch ? { batch: ctx.batch } : {});

/** What a decision publishes, for its audit entry (each signal's delivery is audited by the effect worker too). */
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
