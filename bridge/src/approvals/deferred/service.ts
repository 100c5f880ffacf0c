import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AuditTrail } from '../../audit/trail.js';
import { Refusal, conflict } from '../../refusal.js';
import { AirflowUnavailable, type Authenticator } from '../../identity/dag-access.js';
import type { Sealer } from '../../identity/sealed.js';
import type { Person } from '../../identity/tokens.js';
import type { Db } from '../../store/db.js';
import { PeriodicWorker } from '../../workers/periodic.js';
import type { DeferredVote, VoteRequest } from '../schemas.js';
import type { ApprovalService } from '../service.js';
import { type DeferredVoteRow, addDeferredVote, claimDeferredVotes, countDeferredVotes, deleteDeferredVote, releaseDeferredVote } from './store.js';

export interface DeferredVotesOptions {
  db: Db;
  trail: AuditTrail;
  service: ApprovalService;
  /** Verifies the token again and asks Airflow what its person may do, as for a vote arriving now. */
  authenticate: Authenticator;
  sealer: Sealer;
  log: Logger;
  intervalMs?: number;
  leaseMs?: number;
  now?: () => Date;
}

const BATCH = 50;

/**
 * Votes that arrive while Airflow cannot say whether their voter may decide (Airflow down or restarting). Refusing
 * them would lose what people decided; counting them would let the policy decide without Airflow's permission.
 * So each is acknowledged (202) and kept with the voter's token sealed, and once Airflow answers again it goes
 * through the ordinary vote path with that token: counted, or refused and audited as any vote would be.
 */
export class DeferredVotes extends PeriodicWorker {
  private readonly owner = randomUUID();
  private readonly now: () => Date;

  constructor(private readonly o: DeferredVotesOptions) {
    super(o.intervalMs ?? 2000, (err) => o.log.error({ err: String(err) }, 'deferred votes pass failed'));
    this.now = o.now ?? (() => new Date());
  }

  async defer(id: string, person: Person, input: VoteRequest, ctx: { channel: string; idempotencyKey: string | null; token: string }): Promise<DeferredVote> {
    // Known locally, so said now; everything Airflow and the policy decide is checked when the vote is counted.
    const approval = await this.o.service.get(id);
    if (approval.state !== 'pending') throw conflict(`approval is already ${approval.state}`);
    const received_at = this.now().toISOString();
    const { row } = await this.o.db.transaction().execute(async (tx) => {
      const added = await addDeferredVote(tx, {
        approval_id: id,
        user: person.user,
        role: person.role,
        option: input.option,
        reason: input.reason ?? null,
        params_input: input.params_input ? JSON.stringify(input.params_input) : null,
        channel: ctx.channel,
        idempotency_key: ctx.idempotencyKey ?? `deferred-${randomUUID()}`,
        token_sealed: this.o.sealer.seal(ctx.token),
        received_at,
      });
      if (added.created) {
        await this.o.trail.append(tx, {
          actor: person.user,
          action: 'vote.deferred',
          channel: ctx.channel,
          approval_id: id,
          reason: input.reason ?? null,
          details: { option: input.option, why: 'Airflow could not be asked whether this person may decide; the vote is counted once it answers' },
          at: received_at,
        });
      }
      return added;
    });
    return viewOf(row);
  }

  count(): Promise<number> {
    return countDeferredVotes(this.o.db);
  }

  protected async pass(): Promise<void> {
    const rows = await claimDeferredVotes(this.o.db, this.owner, this.now(), this.o.leaseMs ?? 60_000, BATCH);
    for (const [i, row] of rows.entries()) {
      const outcome = await this.settle(row);
      if (outcome === 'airflow_down') {
        // Still down: the rest wait for a later pass rather than each asking Airflow in vain.
        for (const rest of rows.slice(i + 1)) await releaseDeferredVote(this.o.db, rest.id, this.owner, 'Airflow still unreachable');
        return;
      }
    }
  }

  private async settle(row: DeferredVoteRow): Promise<'settled' | 'airflow_down'> {
    const token = this.o.sealer.open(row.token_sealed);
    if (!token) return this.drop(row, 'unsealable', "the voter's token does not open with this bridge's key");
    let authenticated;
    try {
      authenticated = await this.o.authenticate(token);
    } catch (err) {
      // An expired token, or one Airflow revoked at sign-out: the person no longer vouches for the vote.
      if (err instanceof Refusal && err.kind === 'unauthenticated') return this.drop(row, 'token_invalid', err.message);
      throw err;
    }
    if (!authenticated.scope) return this.release(row, authenticated.airflowDown.message);
    try {
      await this.o.service.vote(row.approval_id, authenticated.person, inputOf(row), {
        channel: row.channel,
        idempotencyKey: row.idempotency_key,
        scope: authenticated.scope,
        receivedAt: row.received_at,
      });
      await deleteDeferredVote(this.o.db, row.id);
      return 'settled';
    } catch (err) {
      if (err instanceof AirflowUnavailable) return this.release(row, err.message);
      // Refused as a vote arriving now would be (vote.refused is audited for policy and permission refusals).
      if (err instanceof Refusal) return this.drop(row, err.code, err.message);
      throw err;
    }
  }

  private async release(row: DeferredVoteRow, error: string): Promise<'airflow_down'> {
    await releaseDeferredVote(this.o.db, row.id, this.owner, error);
    return 'airflow_down';
  }

  private async drop(row: DeferredVoteRow, code: string, message: string): Promise<'settled'> {
    await this.o.db.transaction().execute(async (tx) => {
      await deleteDeferredVote(tx, row.id);
      await this.o.trail.append(tx, {
        actor: 'system',
        action: 'vote.deferred_dropped',
        channel: row.channel,
        approval_id: row.approval_id,
        details: { user: row.user, option: row.option, received_at: row.received_at, code, message },
      });
    });
    this.o.log.warn({ approval_id: row.approval_id, user: row.user, code }, 'deferred vote not counted');
    return 'settled';
  }
}

function inputOf(row: DeferredVoteRow): VoteRequest {
  return {
    option: row.option,
    ...(row.reason !== null ? { reason: row.reason } : {}),
    ...(row.params_input !== null ? { params_input: JSON.parse(row.params_input) as Record<string, unknown> } : {}),
  };
}

function viewOf(row: DeferredVoteRow): DeferredVote {
  return { approval_id: row.approval_id, user: row.user, option: row.option, state: 'awaiting_airflow', received_at: row.received_at };
}
