import type { Selectable } from 'kysely';
import type { AuditTrail, NewAuditEntry } from '../../audit/trail.js';
import type { Db, PolicyVersionTable } from '../../store/db.js';

export type StoredPolicyVersion = Selectable<PolicyVersionTable>;
export type PolicyVersionState = PolicyVersionTable['state'];

export interface PolicyVersionStore {
  /** The version decisions are made under: the one approved last; undefined before any was adopted. */
  inForce(): Promise<StoredPolicyVersion | undefined>;
  find(version: string): Promise<StoredPolicyVersion | undefined>;
  /** Newest first; pending ones oldest first, as they wait in line. */
  list(filter: { state?: PolicyVersionState; limit: number }): Promise<StoredPolicyVersion[]>;
  /** Stores a version with the audit entry recording it: both commit, or neither. False when the text is known. */
  insert(row: StoredPolicyVersion, entry: NewAuditEntry): Promise<boolean>;
  /**
   * Decides a pending version, if it still is one and (to approve) the version in force is still `base`: of two
   * concurrent decisions one wins. The audit entry commits with it. Undefined when it was not pending or is stale.
   */
  decide(
    version: string,
    decision: { state: 'approved' | 'rejected'; by: string; at: string; reason: string | null; base: string | null },
    entry: NewAuditEntry,
  ): Promise<StoredPolicyVersion | undefined>;
  audit(entry: NewAuditEntry): Promise<void>;
}

export class SqlPolicyVersionStore implements PolicyVersionStore {
  constructor(
    private readonly db: Db,
    private readonly trail: AuditTrail,
  ) {}

  inForce() {
    return this.db
      .selectFrom('policy_version')
      .selectAll()
      .where('state', '=', 'approved')
      .orderBy('decided_at', 'desc')
      .orderBy('version')
      .limit(1)
      .executeTakeFirst();
  }

  find(version: string) {
    return this.db.selectFrom('policy_version').selectAll().where('version', '=', version).executeTakeFirst();
  }

  list({ state, limit }: { state?: PolicyVersionState; limit: number }) {
    let query = this.db.selectFrom('policy_version').selectAll();
    if (state) query = query.where('state', '=', state);
    query = state === 'pending' ? query.orderBy('proposed_at').orderBy('version') : query.orderBy('proposed_at', 'desc').orderBy('version');
    return query.limit(limit).execute();
  }

  async insert(row: StoredPolicyVersion, entry: NewAuditEntry): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const added = await tx.insertInto('policy_version').values(row).onConflict((oc) => oc.column('version').doNothing()).returning('version').executeTakeFirst();
      if (added) await this.trail.append(tx, entry);
      return added !== undefined;
    });
  }

  async decide(
    version: string,
    decision: { state: 'approved' | 'rejected'; by: string; at: string; reason: string | null; base: string | null },
    entry: NewAuditEntry,
  ): Promise<StoredPolicyVersion | undefined> {
    const stale = new Error('not decided');
    try {
      return await this.db.transaction().execute(async (tx) => {
        // The audit entry first, unlike elsewhere: on PostgreSQL its lock serializes decisions, so the check of the
        // version in force below reads what the decision before this one committed. No other writer holds these rows.
        await this.trail.append(tx, entry);
        let update = tx
          .updateTable('policy_version')
          .set({ state: decision.state, decided_by: decision.by, decided_at: decision.at, decision_reason: decision.reason })
          .where('version', '=', version)
          .where('state', '=', 'pending');
        if (decision.state === 'approved') {
          // The version in force must be the one the reviewer saw the diff against; null: none is in force yet.
          const current = tx.selectFrom('policy_version').select('version').where('state', '=', 'approved').orderBy('decided_at', 'desc').orderBy('version').limit(1);
          update = decision.base === null ? update.where(({ not, exists }) => not(exists(current))) : update.where(current, '=', decision.base);
        }
        const row = await update.returningAll().executeTakeFirst();
        // Nothing decided: the audit entry goes too.
        if (!row) throw stale;
        return row;
      });
    } catch (err) {
      if (err === stale) return undefined;
      throw err;
    }
  }

  async audit(entry: NewAuditEntry): Promise<void> {
    await this.trail.append(this.db, entry);
  }
}
