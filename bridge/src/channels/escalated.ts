import type { EscalatedApprover } from '../approvals/service.js';
import type { Db } from '../store/db.js';

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
