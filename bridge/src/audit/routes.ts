import { type RequestHandler, Router } from 'express';
import { ApprovalStatusQuery } from '../approvals/signals.js';
import { personOf, scopeOf } from '../http/auth.js';
import { parse } from '../http/errors.js';
import { notFound } from '../refusal.js';
import type { z } from '../zod.js';
import { writeAuditExport } from './export.js';
import { AuditExportQuery, AuditList, AuditListQuery, AuditVerification } from './schemas.js';
import type { AuditTrail } from './trail.js';

export function auditRoutes(trail: AuditTrail, now: () => Date = () => new Date()): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const { cursor, ...filters } = parse(AuditListQuery, req.query, 'query');
    const readable = scopeOf(req).readable;
    const page = await trail.list({ ...filters, after_seq: cursor, readable });
    res.json(AuditList.parse(page));
  });

  router.get('/export', async (req, res) => {
    const query = parse(AuditExportQuery, req.query, 'query');
    await writeAuditExport(trail, { query, by: personOf(req).user, readable: scopeOf(req).readable, now: now() }, res);
  });

  router.get('/verify', async (_req, res) => {
    res.json(AuditVerification.parse(await trail.verify()));
  });

  return router;
}

/** Finds the latest try's approval of one task, as the other signals do. */
type FindLatest = (key: z.infer<typeof ApprovalStatusQuery>) => Promise<{ id: string } | undefined>;

/**
 * The audit evidence of one task's approval (latest try), as a JSON export, for the DAG that files it with its run:
 * called by Airflow's workers with the service token, like the other signals.
 */
export function auditEvidenceHandler(trail: AuditTrail, findLatest: FindLatest, now: () => Date = () => new Date()): RequestHandler {
  return async (req, res) => {
    const key = parse(ApprovalStatusQuery, req.query, 'query');
    const approval = await findLatest(key);
    if (!approval) throw notFound(`no approval for ${key.dag_id}/${key.run_id}/${key.task_id}`);
    await writeAuditExport(trail, { query: { approval_id: approval.id, format: 'json' }, by: 'service', readable: undefined, now: now() }, res);
  };
}
