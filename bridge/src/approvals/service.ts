import type { Person } from '../identity/tokens.js';
import { ApiError, conflict, notFound } from '../http/errors.js';
import { effect } from '../outbox/effects.js';
import type { ApprovalState, VoteRequest } from './schemas.js';
import type { ApprovalStore, StoredApproval } from './store.js';

const REJECTING = /^(reject|deny|decline|no)$/i;

/** The state an approval ends in when `option` is chosen. */
export const stateForOption = (option: string): ApprovalState => (REJECTING.test(option) ? 'rejected' : 'approved');

export interface VoteContext {
  channel: string;
  idempotencyKey: string | null;
}

/** The note written on the task instance, so Airflow's own UI shows who decided and why. */
export function decisionNote(approval: StoredApproval): string {
  const lines = approval.votes.map((v) => `${v.option} by ${v.user} via ${v.channel}${v.reason ? `: ${v.reason}` : ''}`);
  return `airgate: ${approval.state}\n${lines.join('\n')}`;
}

/**
 * Airflow 3.3.2 fails a HITL task answered while the scheduler has not yet processed the executor event of
 * the workload that parked it (it sees "success" for a task it has already re-queued). Parking takes a
 * second or two, so the answer to a request younger than this waits; no person decides that fast.
 */
export const DEFAULT_HITL_SETTLE_MS = 5000;

/** Approval rules; knows nothing of HTTP. The first eligible vote decides (policies refine this). */
export class ApprovalService {
  constructor(
    private readonly store: ApprovalStore,
    private readonly onDecided: () => void,
    private readonly now: () => Date = () => new Date(),
    private readonly hitlSettleMs = DEFAULT_HITL_SETTLE_MS,
  ) {}

  async get(id: string): Promise<StoredApproval> {
    const approval = await this.store.get(id);
    if (!approval) throw notFound(`approval ${id} not found`);
    return approval;
  }

  async vote(id: string, person: Person, input: VoteRequest, ctx: VoteContext): Promise<StoredApproval> {
    const approval = await this.get(id);
    if (ctx.idempotencyKey && (await this.store.findVoteByIdempotencyKey(id, person.user, ctx.idempotencyKey))) {
      return approval;
    }
    if (approval.state !== 'pending') throw conflict(`approval is already ${approval.state}`);
    if (!approval.options.includes(input.option)) {
      throw new ApiError(422, 'invalid_option', `option must be one of ${approval.options.join(', ')}`, 'option');
    }
    const at = this.now().toISOString();
    const params_input = input.params_input ?? {};
    const state = stateForOption(input.option);
    const decided: StoredApproval = {
      ...approval,
      state,
      votes: [...approval.votes, { user: person.user, option: input.option, reason: input.reason ?? null, channel: ctx.channel, at }],
    };
    const key = { dag_id: approval.dag_id, run_id: approval.run_id, task_id: approval.task_id, map_index: approval.map_index };
    const recorded = await this.store.decide(
      {
        approvalId: id,
        vote: {
          user: person.user,
          option: input.option,
          reason: input.reason ?? null,
          channel: ctx.channel,
          params_input,
          idempotency_key: ctx.idempotencyKey,
        },
        final: { state, outcome: { option: input.option, params_input } },
        effects: [
          {
            ...effect('answer_hitl', { key, chosen_options: [input.option], params_input }),
            not_before: new Date(Date.parse(approval.created_at) + this.hitlSettleMs).toISOString(),
          },
          effect('task_note', { key, note: decisionNote(decided) }),
        ],
      },
      at,
    );
    if (!recorded) throw conflict('approval was decided by another vote');
    this.onDecided();
    return this.get(id);
  }
}
