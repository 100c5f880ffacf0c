import { type RequestHandler, Router } from 'express';
import { personOf } from '../http/auth.js';
import { ApiError, notFound, parse } from '../http/errors.js';
import { Approval, ApprovalIdParam, ApprovalList, ApprovalListQuery, ApprovalRegistration, VoteRequest } from './schemas.js';
import type { Metrics } from '../metrics/registry.js';
import type { ApprovalService } from './service.js';
import { ApprovalSignal, ApprovalStatusQuery, signalFileParts, signalOf } from './signals.js';

// Channels a request may name for itself; anything else is recorded as the API.
const SELF_NAMED_CHANNELS = new Set(['ui']);

/** People's routes: list, read, vote. Identity comes from the verified token only. */
export function approvalRoutes(service: ApprovalService, metrics: Metrics): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const query = parse(ApprovalListQuery, req.query, 'query');
    res.json(ApprovalList.parse(await service.list(query, personOf(req))));
  });

  router.get('/:id', async (req, res) => {
    const { id } = parse(ApprovalIdParam, req.params, 'id');
    res.json(Approval.parse(await service.view(id)));
  });

  router.post('/:id/votes', async (req, res) => {
    const { id } = parse(ApprovalIdParam, req.params, 'id');
    const body = parse(VoteRequest, req.body ?? {}, 'body');
    const named = req.get('x-airgate-channel') ?? '';
    const channel = SELF_NAMED_CHANNELS.has(named) ? named : 'api';
    try {
      const approval = await service.vote(id, personOf(req), body, { channel, idempotencyKey: req.get('idempotency-key') ?? null });
      metrics.votes.inc({ channel, result: 'recorded' });
      res.json(Approval.parse(approval));
    } catch (err) {
      metrics.votes.inc({ channel, result: 'refused' });
      throw err;
    }
  });

  return router;
}

/**
 * The Airflow side announcing a request (service token); idempotent on the task try.
 * `signalsDir` is where file signals go; without one, a request for a file signal is refused.
 */
export function registrationHandler(service: ApprovalService, signalsDir: string | null): RequestHandler {
  return async (req, res) => {
    const body = parse(ApprovalRegistration, req.body ?? {}, 'body');
    if (body.signals.some((s) => s.kind === 'file')) {
      if (!signalsDir) throw new ApiError(422, 'signals_unavailable', 'this bridge has no AIRGATE_SIGNALS_DIR for file signals', 'signals');
      if (!signalFileParts(body)) throw new ApiError(422, 'invalid_path', 'dag_id, run_id and task_id must be valid file names for a file signal', 'signals');
    }
    const known = await service.findByTaskTry(body);
    const approval = known ?? (await service.register({ ...body, created_at: new Date().toISOString() }, 'push'));
    res.status(known ? 200 : 201).json(Approval.parse(service.withProgress(approval)));
  };
}

/** A sensor's view of one task's approval (service token, read-only): the latest try's status and decision. */
export function approvalStatusHandler(service: ApprovalService): RequestHandler {
  return async (req, res) => {
    const key = parse(ApprovalStatusQuery, req.query, 'query');
    const approval = await service.findLatest(key);
    if (!approval) throw notFound(`no approval for ${key.dag_id}/${key.run_id}/${key.task_id}`);
    res.json(ApprovalSignal.parse(signalOf(approval)));
  };
}
