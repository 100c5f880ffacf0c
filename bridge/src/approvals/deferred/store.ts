import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, DeferredVoteTable } from '../../store/db.js';
import { claimDue } from '../../store/leases.js';

type Executor = Kysely<Database> | Transaction<Database>;
export type DeferredVoteRow = Selectable<DeferredVoteTable>;
export type NewDeferredVote = Omit<DeferredVoteRow, 'id' | 'attempts' | 'lease_owner' | 'lease_until' | 'last_error'>;

/** Stores a deferred vote once per (approval, user, idempotency key); returns the stored row and whether it is new. */
export async function addDeferredVote(tx: Executor, vote: NewDeferredVote): Promise<{ row: DeferredVoteRow; created: boolean }> {
  const inserted = await tx
    .insertInto('deferred_vote')
    .values({ ...vote, attempts: 0, lease_owner: null, lease_until: null, last_error: null })
    .onConflict((oc) => oc.columns(['approval_id', 'user', 'idempotency_key']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { row: inserted, created: true };
  const row = await tx
    .selectFrom('deferred_vote')
    .selectAll()
    .where('approval_id', '=', vote.approval_id)
    .where('user', '=', vote.user)
    .where('idempotency_key', '=', vote.idempotency_key)
    .executeTakeFirstOrThrow();
  return { row, created: false };
}

/** Leases deferred votes in arrival order, as timers and effects are leased: a live lease is never taken over. */
export async function claimDeferredVotes(db: Kysely<Database>, owner: string, now: Date, leaseMs: number, limit: number): Promise<DeferredVoteRow[]> {
  const at = now.toISOString();
  const due = db
    .selectFrom('deferred_vote')
    .select('id')
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', at)]))
    .orderBy('id')
    .limit(limit);
  return claimDue(
    db,
    due,
    (ids) =>
      db
        .updateTable('deferred_vote')
        .set((eb) => ({ lease_owner: owner, lease_until: new Date(now.getTime() + leaseMs).toISOString(), attempts: eb('attempts', '+', 1) }))
        .where('id', 'in', ids)
        .returningAll()
        .execute(),
    (a, b) => a.id - b.id,
  );
}

/** Gives a leased vote back (Airflow still unreachable) with why, to be tried again on a later pass. */
export async function releaseDeferredVote(db: Executor, id: number, owner: string, error: string): Promise<void> {
  await db.updateTable('deferred_vote').set({ lease_owner: null, lease_until: null, last_error: error }).where('id', '=', id).where('lease_owner', '=', owner).execute();
}

export async function deleteDeferredVote(tx: Executor, id: number): Promise<void> {
  await tx.deleteFrom('deferred_vote').where('id', '=', id).execute();
}

export async function countDeferredVotes(db: Executor): Promise<number> {
  const row = await db.selectFrom('deferred_vote').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return Number(row?.n ?? 0);
}
