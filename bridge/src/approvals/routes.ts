import { Router } from 'express';
import { personOf } from '../http/auth.js';
import { parse } from '../http/errors.js';
import { Approval, ApprovalIdParam, ApprovalList, ApprovalListQuery, VoteRequest } from './schemas.js';
import type { ApprovalService } from './service.js';
import type { ApprovalStore } from './store.js';

// Channels a request may name for itself; anything else is recorded as the API.
const SELF_NAMED_CHANNELS = new Set(['ui']);

export function approvalRoutes(service: ApprovalService, store: ApprovalStore): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const query = parse(ApprovalListQuery, req.query, 'query');
    const page = await store.list({ ...query, user: personOf(req).user });
    res.json(ApprovalList.parse(page));
  });

  router.get('/:id', async (req, res) => {
    const { id } = parse(ApprovalIdParam, req.params, 'id');
    res.json(Approval.parse(await service.get(id)));
  });

  router.post('/:id/votes', async (req, res) => {
    const { id } = parse(ApprovalIdParam, req.params, 'id');
    const body = parse(VoteRequest, req.body ?? {}, 'body');
    const named = req.get('x-airgate-channel') ?? '';
    const approval = await service.vote(id, personOf(req), body, {
      channel: SELF_NAMED_CHANNELS.has(named) ? named : 'api',
      idempotencyKey: req.get('idempotency-key') ?? null,
    });
    res.json(Approval.parse(approval));
  });

  return router;
}
