import { Router } from 'express';
import { scopeOf } from '../http/auth.js';
import { parse } from '../http/errors.js';
import { AuditList, AuditListQuery, AuditVerification } from './schemas.js';
import type { AuditTrail } from './trail.js';

export function auditRoutes(trail: AuditTrail): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const { cursor, ...filters } = parse(AuditListQuery, req.query, 'query');
    const readable = scopeOf(req).readable;
    const page = await trail.list({ ...filters, after_seq: cursor, readable });
    res.json(AuditList.parse(page));
  });

  router.get('/verify', async (_req, res) => {
    res.json(AuditVerification.parse(await trail.verify()));
  });

  return router;
}
