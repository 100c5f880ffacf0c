import { type Kysely, PostgresAdapter, type Selectable, type Transaction } from 'kysely';
import type { Database, TimerTable } from '../store/db.js';
import type { PlannedTimer } from './plan.js';

type Executor = Kysely<Database> | Transaction<Database>;
export type TimerRow = Selectable<TimerTable>;

/** Adds the planned timers an approval does not have yet (by kind and key); existing ones, fired or not, stay. */
export async function addTimers(tx: Executor, approvalId: string, timers: PlannedTimer[]): Promise<void> {
  if (timers.length === 0) return;
  await tx
    .insertInto('timer')
    .values(timers.map((t) => ({ approval_id: approvalId, ...t, state: 'pending', attempts: 0, lease_owner: null, lease_until: null, fired_at: null, last_error: null })))
    .onConflict((oc) => oc.columns(['approval_id', 'kind', 'key']).doNothing())
    .execute();
}

/** Leases due timers atomically, like deliveries (see claimDeliveries): a live lease is never taken over. */
export async function claimTimers(db: Kysely<Database>, owner: string, now: Date, leaseMs: number, limit: number): Promise<TimerRow[]> {
  const at = now.toISOString();
  let due = db
    .selectFrom('timer')
    .select('id')
    .where('state', '=', 'pending')
    .where('due_at', '<=', at)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', at)]))
    .orderBy('due_at')
    .orderBy('id')
    .limit(limit);
  if (db.getExecutor().adapter instanceof PostgresAdapter) due = due.forUpdate().skipLocked();
  const rows = await db
    .updateTable('timer')
    .set((eb) => ({ lease_owner: owner, lease_until: new Date(now.getTime() + leaseMs).toISOString(), attempts: eb('attempts', '+', 1) }))
    .where('id', 'in', due)
    .returningAll()
    .execute();
  return rows.sort((a, b) => a.due_at.localeCompare(b.due_at) || a.id - b.id);
}

/**
 * Marks a leased timer done (fired or cancelled) if this worker still holds it. Run inside the transaction that
 * writes the fire's effects: when the lease was lost, nothing commits, so a timer fires once.
 */
export async function finishTimer(tx: Executor, timer: TimerRow, owner: string, state: 'fired' | 'cancelled', at: string): Promise<boolean> {
  const result = await tx
    .updateTable('timer')
    .set({ state, fired_at: at, lease_owner: null, lease_until: null, last_error: null })
    .where('id', '=', timer.id)
    .where('state', '=', 'pending')
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Cancels every pending timer of an approval but `except` kinds (decided approvals need no more reminders). */
export async function cancelTimers(tx: Executor, approvalId: string, except: string[] = []): Promise<void> {
  let update = tx.updateTable('timer').set({ state: 'cancelled', lease_owner: null, lease_until: null }).where('approval_id', '=', approvalId).where('state', '=', 'pending');
  if (except.length > 0) update = update.where('kind', 'not in', except);
  await update.execute();
}
