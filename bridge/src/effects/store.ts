import type { Selectable } from 'kysely';
import type { AuditTrail, NewAuditEntry } from '../audit/trail.js';
import type { Db, EffectTable } from '../store/db.js';
import { claimDue } from '../store/leases.js';

export type EffectRow = Selectable<EffectTable>;

/** What a failed attempt leaves: `failed` for good, or `pending` again at `retryAt`. */
export interface EffectFailure {
  attempts: number;
  permanent: boolean;
  error: string;
  retryAt: string;
}

export interface EffectStore {
  /**
   * Claims up to `limit` due effects, oldest first: they become `applying` with a lease (next_attempt_at = now +
   * lease). A worker that dies mid-apply leaves its claim to expire, and the effect is claimed again.
   */
  claim(now: Date, leaseMs: number, limit: number): Promise<EffectRow[]>;
  /** When the earliest pending or claimed effect falls due, if any. */
  nextDueAt(): Promise<string | null>;
  /** Puts a claimed effect back until `retryAt`, attempts unchanged: Airflow is not ready for it yet. */
  defer(id: number, retryAt: string, parkedAt: string | null): Promise<void>;
  /** Marks an effect done after its `attempts`-th attempt; `entry` is audited in the same transaction. */
  markApplied(id: number, attempts: number, at: string, entry: NewAuditEntry): Promise<void>;
  /** Records a failed attempt; `entry` is audited in the same transaction. */
  markFailed(id: number, failure: EffectFailure, entry: NewAuditEntry): Promise<void>;
  /** Effects waiting (pending or being applied) and given up on, for metrics and health. */
  depth(): Promise<{ pending: number; failed: number }>;
}

export class SqlEffectStore implements EffectStore {
  constructor(
    private readonly db: Db,
    private readonly trail: AuditTrail,
  ) {}

  async claim(now: Date, leaseMs: number, limit: number) {
    const due = this.db
      .selectFrom('effect')
      .select('id')
      .where('state', 'in', ['pending', 'applying'])
      .where('next_attempt_at', '<=', now.toISOString())
      .orderBy('id')
      .limit(limit);
    return claimDue(
      this.db,
      due,
      (ids) =>
        this.db
          .updateTable('effect')
          .set({ state: 'applying', next_attempt_at: new Date(now.getTime() + leaseMs).toISOString() })
          .where('id', 'in', ids)
          .returningAll()
          .execute(),
      (a, b) => a.id - b.id,
    );
  }

  async nextDueAt() {
    const next = await this.db
      .selectFrom('effect')
      .select((eb) => eb.fn.min('next_attempt_at').as('at'))
      .where('state', 'in', ['pending', 'applying'])
      .executeTakeFirst();
    return next?.at ?? null;
  }

  async defer(id: number, retryAt: string, parkedAt: string | null) {
    await this.db.updateTable('effect').set({ state: 'pending', next_attempt_at: retryAt, parked_at: parkedAt }).where('id', '=', id).execute();
  }

  async markApplied(id: number, attempts: number, at: string, entry: NewAuditEntry) {
    await this.db.transaction().execute(async (tx) => {
      await tx.updateTable('effect').set({ state: 'done', attempts, done_at: at, last_error: null }).where('id', '=', id).execute();
      await this.trail.append(tx, entry);
    });
  }

  async markFailed(id: number, failure: EffectFailure, entry: NewAuditEntry) {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('effect')
        .set({ state: failure.permanent ? 'failed' : 'pending', attempts: failure.attempts, last_error: failure.error, next_attempt_at: failure.retryAt })
        .where('id', '=', id)
        .execute();
      await this.trail.append(tx, entry);
    });
  }

  async depth() {
    const rows = await this.db
      .selectFrom('effect')
      .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .where('state', 'in', ['pending', 'applying', 'failed'])
      .groupBy('state')
      .execute();
    const count = (state: string) => Number(rows.find((r) => r.state === state)?.n ?? 0);
    return { pending: count('pending') + count('applying'), failed: count('failed') };
  }
}
