import type { Kysely, Transaction } from 'kysely';
import type { EscalatedApprover } from '../approvals/service.js';
import type { Database, Db } from '../store/db.js';
import type { Escalation } from './schemas.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** For ApprovalService's `escalated` option: escalated approvers by approval, from the store. */
export function escalatedApprovers(db: Db) {
  return async (ids: readonly string[]): Promise<Map<string, EscalatedApprover[]>> => {
    const map = new Map<string, EscalatedApprover[]>();
    if (ids.length === 0) return map;
    const rows = await db.selectFrom('approval_escalation').select(['approval_id', 'level', 'approver']).where('approval_id', 'in', [...ids]).orderBy('id').execute();
    for (const row of rows) map.set(row.approval_id, [...(map.get(row.approval_id) ?? []), { level: row.level, approver: row.approver }]);
    return map;
  };
}

/** People and roles (`role:NAME`) escalations added to one level of an approval, in the order they were added. */
export async function levelEscalations(tx: Executor, approvalId: string, level: number): Promise<string[]> {
  const rows = await tx
    .selectFrom('approval_escalation')
    .select('approver')
    .where('approval_id', '=', approvalId)
    .where('level', '=', level)
    .orderBy('id')
    .execute();
  return rows.map((row) => row.approver);
}

/** What escalations added to an approval, as the routes read it. */
export interface EscalationStore {
  /** Every escalation of an approval, oldest first. */
  list(approvalId: string): Promise<Escalation[]>;
}

export class SqlEscalationStore implements EscalationStore {
  constructor(private readonly db: Db) {}

  list(approvalId: string): Promise<Escalation[]> {
    return this.db.selectFrom('approval_escalation').select(['level', 'step', 'approver', 'reason', 'at']).where('approval_id', '=', approvalId).orderBy('id').execute();
  }
}

/** Records an approver added to the open level; false when they were added to it before. */
export async function addEscalation(
  tx: Transaction<Database>,
  row: { approval_id: string; level: number; step: number; approver: string; reason: string; at: string },
): Promise<boolean> {
  const added = await tx
    .insertInto('approval_escalation')
    .values(row)
    .onConflict((oc) => oc.columns(['approval_id', 'level', 'approver']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return added !== undefined;
}
