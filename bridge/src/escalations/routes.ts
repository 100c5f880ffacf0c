import { type RequestHandler, Router } from 'express';
import { ApprovalIdParam } from '../approvals/schemas.js';
import type { ApprovalService } from '../approvals/service.js';
import { ApprovalStatusQuery } from '../approvals/signals.js';
import { scopeOf } from '../http/auth.js';
import { parse } from '../http/errors.js';
import { notFound } from '../refusal.js';
import type { Db } from '../store/db.js';
import { EscalationList } from './schemas.js';
import { dagOfApproval, listEscalations } from './store.js';

/** Who escalations added to an approval's levels. Mount behind the person check; like the approvals themselves, only for DAGs the person may read. */
export function escalationRoutes(db: Db): Router {
  const router = Router();
  router.get('/approvals/:id/escalations', async (req, res) => {
    const { id } = parse(ApprovalIdParam, req.params, 'id');
    const dagId = await dagOfApproval(db, id);
    if (dagId === undefined || !scopeOf(req).mayRead(dagId)) throw notFound(`approval ${id} not found`);
    res.json(EscalationList.parse({ items: await listEscalations(db, id) }));
  });
  return router;
}

/**
 * The escalation chain of one task's approval (its latest try), read-only for the service token: what a DAG records
 * of who was added while nobody answered. Who may decide is not the token's to know beyond that.
 */
export function escalationStatusHandler(service: ApprovalService, db: Db): RequestHandler {
  return async (req, res) => {
    const key = parse(ApprovalStatusQuery, req.query, 'query');
    const approval = await service.findLatest(key);
    if (!approval) throw notFound(`no approval for ${key.dag_id}/${key.run_id}/${key.task_id}`);
    res.json(EscalationList.parse({ items: await listEscalations(db, approval.id) }));
  };
}
