import { Router } from 'express';
import { parse } from '../http/errors.js';
import { AuditList, AuditListQuery, AuditVerification } from './schemas.js';
import type { AuditTrail } from './trail.js';

export function auditRoutes(trail: AuditTrail): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const { approval_id, cursor, limit } = parse(AuditListQuery, req.query, 'query');
    const page = await trail.list({ approval_id, after_seq: cursor === undefined ? undefined : Number(cursor), limit });
    res.json(AuditList.parse(page));
  });

  router.get('/verify', async (_req, res) => {
    res.json(AuditVerification.parse(await trail.verify()));
  });

  return router;
}
