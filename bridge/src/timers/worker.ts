import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import { PeriodicWorker } from '../workers/periodic.js';
import type { ApprovalService, DeadlineOutcome, PolicySource } from '../approvals/service.js';
import type { StoredApproval } from '../approvals/store.js';
import type { AuditTrail } from '../audit/trail.js';
import { deadlineEscalationTargets, escalate, escalationAdditions } from '../escalations/escalate.js';
import type { Notifier } from '../notifications/notifier.js';
import { type Policy, type PolicySet, formatDuration, meaningOf, nextReminderAt, selectPolicy } from '../policies/index.js';
import type { Database, Db } from '../store/db.js';
import { deadlineOption, planTimers, reminderTimer } from './plan.js';
import { SqlTimerStore, type TimerRow, type TimerStore, cancelTimers } from './store.js';

// Left to the event listener first; then the sweep makes sure the requester hears, within a horizon.
const DECIDED_GRACE_MS = 60_000;
const DECIDED_HORIZON_MS = 7 * 86_400_000;

const BATCH = 50;
const RETRY_MS = 30_000;

export interface TimerWorkerOptions {
  db: Db;
  trail: AuditTrail;
  service: ApprovalService;
  policies: PolicySource;
  notifier: Notifier;
  log: Logger;
  /** Called after a pass that queued messages, so they go out at once. */
  onQueued?: () => void;
  intervalMs?: number;
  leaseMs?: number;
  now?: () => Date;
}

/** The lease was lost to another worker between claiming and committing: the fire is theirs. */
class LeaseLost extends Error {}

type Fired = { action: string; details: Record<string, unknown> } | 'cancel';

/**
 * Fires due timers. Each fire's writes (messages, escalated approvers) commit in one transaction with marking the
 * timer fired, guarded by this worker's lease, so a timer fires once across replicas; a timer whose worker died
 * is claimed again when its lease expires. A pass also plans the timers of pending approvals that lack them (an
 * approval registered while no listener ran), so a restart loses no approval's clock.
 */
export class TimerWorker extends PeriodicWorker {
  private readonly owner = randomUUID();
  private readonly now: () => Date;
  private readonly store: TimerStore;

  constructor(private readonly o: TimerWorkerOptions) {
    super(o.intervalMs ?? 1000, (err) => o.log.error({ err: String(err) }, 'timer pass failed'));
    this.now = o.now ?? (() => new Date());
    this.store = new SqlTimerStore(o.db);
  }

  /** Plans the approval's timers now (idempotent): on registration and when a level opens. */
  async schedule(approval: StoredApproval): Promise<void> {
    if (approval.state !== 'pending') return;
    await this.store.add(approval.id, planTimers(this.o.policies.current(), approval, this.now()));
  }

  protected async pass() {
    await this.sweep();
    let queued = false;
    for (;;) {
      const claimed = await this.store.claim(this.owner, this.now(), this.o.leaseMs ?? 60_000, BATCH);
      for (const timer of claimed) queued = (await this.fire(timer)) || queued;
      if (claimed.length < BATCH) break;
    }
    if (queued) this.o.onQueued?.();
  }

  private async sweep() {
    const missing = await this.store.unplanned(100);
    for (const id of missing) {
      const approval = await this.o.service.get(id);
      await this.schedule(approval);
    }
    await this.sweepDecided();
  }

  /**
   * The requester's "decided" message is queued by the event listener right after the decision commits; a crash
   * in between, or a decision Airflow made (closed by the reconcile loop, which announces nothing), leaves none.
   * Decisions older than the listener needs and younger than a week without that message get it here.
   */
  private async sweepDecided() {
    const now = this.now().getTime();
    const unannounced = await this.store.unannounced(new Date(now - DECIDED_HORIZON_MS).toISOString(), new Date(now - DECIDED_GRACE_MS).toISOString(), 100);
    for (const id of unannounced) {
      const approval = await this.o.service.get(id);
      await this.o.db.transaction().execute(async (tx) => {
        await cancelTimers(tx, approval.id, []);
        await this.o.notifier.notify(tx, approval, 'decided', [approval.requester!], this.now().toISOString());
      });
      this.o.onQueued?.();
    }
  }

  /** Returns whether messages were queued. */
  private async fire(timer: TimerRow): Promise<boolean> {
    const at = this.now().toISOString();
    try {
      const approval = await this.o.service.get(timer.approval_id);
      const set = this.o.policies.current();
      const policy = selectPolicy(set, approval);
      // The deadline's outcome goes through the service (its own locked transaction) before the timer is marked:
      // applying it is idempotent, so a crash in between only repeats a no-op.
      let deadline: { outcome: DeadlineOutcome | 'escalate'; applied: boolean } | null = null;
      if (timer.kind === 'deadline' && approval.state === 'pending' && policy) {
        const choice = deadlineOption(policy, approval.options, (option) => meaningOf(set, policy, option) === 'reject');
        const outcome: DeadlineOutcome | 'escalate' = choice === 'escalate' ? 'escalate' : choice === 'fail' ? { kind: 'fail' } : { kind: 'answer', option: choice };
        const applied = outcome === 'escalate' ? false : await this.o.service.applyDeadline(approval.id, outcome, timer.due_at);
        deadline = { outcome, applied };
      }
      const current = deadline?.applied ? await this.o.service.get(approval.id) : approval;
      return await this.o.db.transaction().execute(async (tx) => {
        const fired = await this.handle(tx, timer, current, set, policy, at, deadline);
        if (!(await this.store.finish(tx, timer, this.owner, fired === 'cancel' ? 'cancelled' : 'fired', at))) throw new LeaseLost();
        if (fired === 'cancel') return false;
        await this.o.trail.append(tx, {
          actor: 'system',
          action: fired.action,
          approval_id: timer.approval_id,
          details: { timer: timer.id, kind: timer.kind, key: timer.key, due_at: timer.due_at, ...fired.details },
          at,
        });
        return true;
      });
    } catch (err) {
      if (err instanceof LeaseLost) return false;
      this.o.log.warn({ timer: timer.id, kind: timer.kind, err: String(err) }, 'timer fire failed; retrying');
      await this.store.retryLater(timer, this.owner, String(err), new Date(Date.parse(at) + RETRY_MS).toISOString());
      return false;
    }
  }

  private async handle(
    tx: Transaction<Database>,
    timer: TimerRow,
    approval: StoredApproval,
    set: PolicySet,
    policy: Policy | null,
    at: string,
    deadline: { outcome: DeadlineOutcome | 'escalate'; applied: boolean } | null,
  ): Promise<Fired> {
    const { notifier } = this.o;
    // A deadline that closed the approval (now, or in a run that crashed before marking the timer) still reports.
    const closedByDeadline = timer.kind === 'deadline' && approval.state === 'expired' && approval.decided_at === timer.due_at;
    if (!policy || (approval.state !== 'pending' && !closedByDeadline)) return 'cancel';
    switch (timer.kind) {
      case 'notify': {
        if (timer.key !== `level:${approval.level}`) return 'cancel';
        const recipients = await notifier.notifyApprovers(tx, approval, 'request', at);
        return { action: 'timer.notify', details: { level: approval.level, recipients } };
      }
      case 'reminder': {
        const recipients = await notifier.notifyApprovers(tx, approval, 'reminder', at);
        // From the fire time, not the due time: a bridge that was down sends one reminder, not every one it missed.
        const next = nextReminderAt(policy, new Date(approval.created_at), new Date(at));
        if (next) await this.store.add(approval.id, [reminderTimer(next)], tx);
        return { action: 'timer.reminder', details: { recipients, next: next?.toISOString() ?? null } };
      }
      case 'escalation': {
        const step = Number(timer.key.slice('step:'.length));
        const { users, roles } = escalationAdditions(set, policy, step, approval.requester, approval.level);
        const reason = `escalation step ${step + 1}: undecided ${formatDuration(policy.escalation?.[step]?.after ?? 0)} after the request`;
        const added = await escalate(tx, notifier, approval, step, [...users, ...roles], reason, at);
        return { action: 'approval.escalated', details: { step, level: approval.level, added, reason } };
      }
      case 'sla_warning': {
        const recipients = await notifier.notifyApprovers(tx, approval, 'sla_warning', at);
        return { action: 'sla.warning', details: { recipients, due_at: approval.due_at } };
      }
      case 'deadline': {
        const recipients = policy.sla ? await notifier.notifyApprovers(tx, approval, 'sla_breach', at) : [];
        if (policy.sla && approval.requester) await notifier.notify(tx, approval, 'sla_breach', [approval.requester], at);
        if (deadline?.outcome === 'escalate') {
          // Escalating at the deadline hands the level to the requester's nearest available manager and every
          // escalation step's targets; Airflow's own response timeout stays the last word on the wait.
          const added = await escalate(tx, notifier, approval, -1, deadlineEscalationTargets(set, policy, approval.requester, approval.level), 'deadline passed', at);
          return { action: 'approval.escalated', details: { step: 'deadline', level: approval.level, added, sla_breach: recipients } };
        }
        return { action: 'sla.breached', details: { outcome: deadline?.outcome ?? 'already applied', sla_breach: recipients } };
      }
      default:
        return 'cancel';
    }
  }
}
