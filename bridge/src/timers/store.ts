import { type Kysely, type Selectable, type Transaction, sql } from 'kysely';
import type { Database, Db, TimerTable } from '../store/db.js';
import { claimDue } from '../store/leases.js';
import type { PlannedTimer } from './plan.js';

type Executor = Kysely<Database> | Transaction<Database>;
export type TimerRow = Selectable<TimerTable>;

export interface TimerStore {
  /** Adds the planned timers an approval does not have yet (by kind and key); in `tx` when given. */
  add(approvalId: string, timers: PlannedTimer[], tx?: Transaction<Database>): Promise<void>;
  /** Leases up to `limit` due timers for `owner`, earliest first; a live lease is never taken over. */
  claim(owner: string, now: Date, leaseMs: number, limit: number): Promise<TimerRow[]>;
  /**
   * Marks a leased timer done (fired or cancelled) if `owner` still holds it; false when the lease was lost. Run in
   * the transaction that writes the fire's effects: when the lease was lost, nothing commits, so a timer fires once.
   */
  finish(tx: Transaction<Database>, timer: TimerRow, owner: string, state: 'fired' | 'cancelled', at: string): Promise<boolean>;
  /** Records why a fire failed and keeps `owner`'s lease until `until`, when the timer is claimed again. */
  retryLater(timer: TimerRow, owner: string, error: string, until: string): Promise<void>;
  /** Pending approvals without the notify timer of their open level (registered while no listener ran). */
  unplanned(limit: number): Promise<string[]>;
  /** Approvals with a requester decided between `from` and `to` (ISO) whose "decided" message was never stored. */
  unannounced(from: string, to: string, limit: number): Promise<string[]>;
}

/** Cancels every pending timer of an approval but `except` kinds (decided approvals need no more reminders). */
export async function cancelTimers(tx: Executor, approvalId: string, except: string[] = []): Promise<void> {
  let update = tx.updateTable('timer').set({ state: 'cancelled', lease_owner: null, lease_until: null }).where('approval_id', '=', approvalId).where('state', '=', 'pending');
  if (except.length > 0) update = update.where('kind', 'not in', except);
  await update.execute();
}

export class SqlTimerStore implements TimerStore {
  constructor(private readonly db: Db) {}

  async add(approvalId: string, timers: PlannedTimer[], tx?: Transaction<Database>) {
    if (timers.length === 0) return;
    // Existing timers, fired or not, stay.
    await (tx ?? this.db)
      .insertInto('timer')
      .values(timers.map((t) => ({ approval_id: approvalId, ...t, state: 'pending', attempts: 0, lease_owner: null, lease_until: null, fired_at: null, last_error: null })))
      .onConflict((oc) => oc.columns(['approval_id', 'kind', 'key']).doNothing())
      .execute();
  }

  async claim(owner: string, now: Date, leaseMs: number, limit: number) {
    const at = now.toISOString();
    const due = this.db
      .selectFrom('timer')
      .select('id')
      .where('state', '=', 'pending')
      .where('due_at', '<=', at)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', at)]))
      .orderBy('due_at')
      .orderBy('id')
      .limit(limit);
    return claimDue(
      this.db,
      due,
      (ids) =>
        this.db
          .updateTable('timer')
          .set((eb) => ({ lease_owner: owner, lease_until: new Date(now.getTime() + leaseMs).toISOString(), attempts: eb('attempts', '+', 1) }))
          .where('id', 'in', ids)
          .returningAll()
          .execute(),
      (a, b) => a.due_at.localeCompare(b.due_at) || a.id - b.id,
    );
  }

  async finish(tx: Transaction<Database>, timer: TimerRow, owner: string, state: 'fired' | 'cancelled', at: string) {
    const result = await tx
      .updateTable('timer')
      .set({ state, fired_at: at, lease_owner: null, lease_until: null, last_error: null })
      .where('id', '=', timer.id)
      .where('state', '=', 'pending')
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async retryLater(timer: TimerRow, owner: string, error: string, until: string) {
    await this.db.updateTable('timer').set({ last_error: error, lease_until: until }).where('id', '=', timer.id).where('lease_owner', '=', owner).execute();
  }

  async unplanned(limit: number) {
    const rows = await this.db
      .selectFrom('approval')
      .select('id')
      .where('state', '=', 'pending')
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('timer')
              .select('timer.id')
              .whereRef('timer.approval_id', '=', 'approval.id')
              .where('timer.kind', '=', 'notify')
              .where(sql<string>`timer.key`, '=', sql<string>`'level:' || approval.level`),
          ),
        ),
      )
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  async unannounced(from: string, to: string, limit: number) {
    const rows = await this.db
      .selectFrom('approval')
      .select('id')
      .where('state', 'in', ['approved', 'rejected', 'expired'])
      .where('requester', 'is not', null)
      .where('decided_at', '<=', to)
      .where('decided_at', '>=', from)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('notification')
              .select('notification.id')
              .whereRef('notification.approval_id', '=', 'approval.id')
              .where('notification.kind', '=', 'decided'),
          ),
        ),
      )
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }
}
