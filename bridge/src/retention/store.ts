import type { Kysely } from 'kysely';
import type { AuditTrail } from '../audit/trail.js';
import type { Database, Db } from '../store/db.js';

/** Approvals whose working state may go: decided before the cutoff, nothing left to apply, send or review. */
export interface RetentionStore {
  /**
   * Deletes up to `limit` such approvals with their votes, effects, messages, deliveries, timers, escalations,
   * deferred votes and link uses, in one transaction with one audit entry; returns their ids. The audit trail
   * keeps every entry, so the chain still verifies and each decision stays on record.
   */
  purgeDecidedBefore(cutoff: string, limit: number): Promise<string[]>;
}

export class SqlRetentionStore implements RetentionStore {
  constructor(
    private readonly db: Db,
    private readonly trail: AuditTrail,
  ) {}

  async purgeDecidedBefore(cutoff: string, limit: number): Promise<string[]> {
    return this.db.transaction().execute(async (tx) => {
      const ids = (await purgeable(tx, cutoff, limit)).map((row) => row.id);
      if (ids.length === 0) return [];
      const notifications = tx.selectFrom('notification').select('id').where('approval_id', 'in', ids);
      await tx.deleteFrom('delivery').where('notification_id', 'in', notifications).execute();
      for (const table of ['notification', 'vote', 'effect', 'timer', 'approval_escalation', 'deferred_vote', 'link_use'] as const) {
        await tx.deleteFrom(table).where('approval_id', 'in', ids).execute();
      }
      await tx.deleteFrom('approval').where('id', 'in', ids).execute();
      await this.trail.append(tx, { actor: 'system', action: 'retention.purged', details: { decided_before: cutoff, count: ids.length, approval_ids: ids } });
      return ids;
    });
  }
}

function purgeable(tx: Kysely<Database>, cutoff: string, limit: number) {
  return tx
    .selectFrom('approval as a')
    .select('a.id')
    .where('a.state', '!=', 'pending')
    .where('a.decided_at', 'is not', null)
    .where('a.decided_at', '<', cutoff)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('effect')
            .select('effect.id')
            .whereRef('effect.approval_id', '=', 'a.id')
            .where('effect.state', 'in', ['pending', 'applying']),
        ),
      ),
    )
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('delivery')
            .innerJoin('notification', 'notification.id', 'delivery.notification_id')
            .select('delivery.id')
            .whereRef('notification.approval_id', '=', 'a.id')
            .where('delivery.state', '=', 'queued'),
        ),
      ),
    )
    // A bypass stays as long as its review is open or young: the review points back at it.
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('approval as r')
            .select('r.id')
            .whereRef('r.review_of', '=', 'a.id')
            .where((inner) => inner.or([inner('r.state', '=', 'pending'), inner('r.decided_at', 'is', null), inner('r.decided_at', '>=', cutoff)])),
        ),
      ),
    )
    .orderBy('a.decided_at')
    .limit(limit)
    .execute();
}
