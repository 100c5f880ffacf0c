import { type ApprovalView, type ApprovalService, type EscalatedApprover, claimFor } from '../approvals/service.js';
import type { ApprovalStore, LockedApproval } from '../approvals/store.js';
import type { DagScope } from '../identity/dag-access.js';
import type { Person } from '../identity/tokens.js';
import { Refusal, conflict, forbidden, notFound } from '../refusal.js';

export interface QueueServiceOptions {
  store: ApprovalStore;
  approvals: ApprovalService;
  /** Escalated approvers by approval id: they may decide (and so claim) the level they were added to. */
  escalated: (approvalIds: readonly string[]) => Promise<Map<string, EscalatedApprover[]>>;
  now?: () => Date;
}

/**
 * The review queue's claims. A reviewer claims a pending approval they may decide, so that two reviewers do not
 * work on the same item: until the claim ends (released, expired, or the claimer's own vote) votes by anyone else
 * are refused with 409 `claimed` (ApprovalService checks it under the approval's lock). Taking and releasing a
 * claim are audited; renewing one is not.
 */
export class QueueService {
  private readonly now: () => Date;

  constructor(private readonly o: QueueServiceOptions) {
    this.now = o.now ?? (() => new Date());
  }

  /** Claims (or, as its holder, renews) approval `id` for `ttlSeconds`, if `person` may decide it now. */
  async claim(id: string, person: Person, scope: DagScope, ttlSeconds: number): Promise<ApprovalView> {
    const approval = await this.o.approvals.viewFor(id, scope);
    if (approval.state !== 'pending') throw conflict(`approval is already ${approval.state}`);
    const escalated = (await this.o.escalated([id])).get(id);
    if (!this.o.approvals.canVote(approval, person, escalated)) {
      throw forbidden(`${person.user} may not decide this approval's open level, so cannot claim it`, 'not_eligible');
    }
    if (!(await this.o.approvals.airflowAllows(id, scope))) {
      throw new Refusal('forbidden', 'airflow_forbidden', `Airflow does not let ${person.user} change tasks of DAG ${approval.dag_id}, which deciding needs`);
    }
    const at = this.now();
    const until = new Date(at.getTime() + ttlSeconds * 1000).toISOString();
    await this.locked(id, async (locked) => {
      if (locked.approval.state !== 'pending') throw conflict(`approval is already ${locked.approval.state}`);
      const held = claimFor(person.user, locked.approval.claim, at.toISOString());
      await locked.update({ claim: { by: person.user, until } });
      if (!held) await locked.audit({ actor: person.user, action: 'approval.claimed', details: { until } });
    });
    return this.o.approvals.view(id);
  }

  /** Ends `person`'s claim on approval `id`; nothing to do when nobody holds one. */
  async release(id: string, person: Person, scope: DagScope): Promise<ApprovalView> {
    await this.o.approvals.viewFor(id, scope);
    await this.locked(id, async (locked) => {
      if (!claimFor(person.user, locked.approval.claim, this.now().toISOString())) return;
      await locked.update({ claim: null });
      await locked.audit({ actor: person.user, action: 'approval.released', details: {} });
    });
    return this.o.approvals.view(id);
  }

  private async locked(id: string, work: (locked: LockedApproval) => Promise<void>): Promise<void> {
    const done = await this.o.store.withLockedApproval(id, async (locked) => {
      await work(locked);
      return true;
    });
    if (!done) throw notFound(`approval ${id} not found`);
  }
}
