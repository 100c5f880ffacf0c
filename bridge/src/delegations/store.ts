import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { AuditTrail } from '../audit/trail.js';
import type { DelegationTable, Db } from '../store/db.js';
import type { NewDelegation } from './schemas.js';

/** A delegation as the rules see it, wherever it was made. */
export interface DelegationRecord {
  id: string;
  from: string;
  to: string;
  starts_at: string;
  ends_at: string;
  policies: string[] | null;
  reason: string | null;
  source: 'api' | 'policies_file';
  created_at: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
}

export interface DelegationStore {
  /** Stores a delegation `by` its delegator and audits it, together. */
  create(by: string, delegation: NewDelegation, at: string): Promise<DelegationRecord>;
  get(id: string): Promise<DelegationRecord | undefined>;
  /** Revokes it and audits that, together; undefined when it was already revoked (nothing changed). */
  revoke(id: string, by: string, at: string): Promise<DelegationRecord | undefined>;
  /** Not revoked and not ended at `at` (begun or not). */
  current(at: string): Promise<DelegationRecord[]>;
  /** Newest first; those given or received by `person`, or everyone's when null. */
  list(person: string | null, limit: number): Promise<DelegationRecord[]>;
}

const toRecord = (row: Selectable<DelegationTable>): DelegationRecord => ({
  id: row.id,
  from: row.delegator,
  to: row.deputy,
  starts_at: row.starts_at,
  ends_at: row.ends_at,
  policies: row.policies ? (JSON.parse(row.policies) as string[]) : null,
  reason: row.reason,
  source: 'api',
  created_at: row.created_at,
  revoked_at: row.revoked_at,
  revoked_by: row.revoked_by,
});

const auditDetails = (d: DelegationRecord) => ({
  delegation_id: d.id,
  from: d.from,
  to: d.to,
  starts_at: d.starts_at,
  ends_at: d.ends_at,
  policies: d.policies,
});

export class SqlDelegationStore implements DelegationStore {
  constructor(
    private readonly db: Db,
    private readonly trail: AuditTrail,
  ) {}

  async create(by: string, d: NewDelegation, at: string) {
    const row = {
      id: randomUUID(),
      delegator: by,
      deputy: d.to,
      starts_at: d.starts_at,
      ends_at: d.ends_at,
      policies: d.policies ? JSON.stringify(d.policies) : null,
      reason: d.reason,
      created_at: at,
      revoked_at: null,
      revoked_by: null,
    };
    const record = toRecord(row);
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('delegation').values(row).execute();
      // A delegation concerns no one approval: its entries have no approval id.
      await this.trail.append(tx, { actor: by, action: 'delegation.created', channel: 'api', reason: d.reason, details: auditDetails(record), at });
    });
    return record;
  }

  async get(id: string) {
    const row = await this.db.selectFrom('delegation').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async revoke(id: string, by: string, at: string) {
    return this.db.transaction().execute(async (tx) => {
      const updated = await tx
        .updateTable('delegation')
        .set({ revoked_at: at, revoked_by: by })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (!updated) return undefined;
      const record = toRecord(updated);
      await this.trail.append(tx, { actor: by, action: 'delegation.revoked', channel: 'api', details: auditDetails(record), at });
      return record;
    });
  }

  async current(at: string) {
    const rows = await this.db.selectFrom('delegation').selectAll().where('revoked_at', 'is', null).where('ends_at', '>', at).execute();
    return rows.map(toRecord);
  }

  async list(person: string | null, limit: number) {
    let select = this.db.selectFrom('delegation').selectAll();
    if (person !== null) select = select.where((eb) => eb.or([eb('delegator', '=', person), eb('deputy', '=', person)]));
    const rows = await select.orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
    return rows.map(toRecord);
  }
}
