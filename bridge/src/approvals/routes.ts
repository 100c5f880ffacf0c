import { type Request, type RequestHandler, Router } from 'express';
import { personOf, scopeOf, tokenOf } from '../http/auth.js';
import { badRequest, parse } from '../http/errors.js';
import { notFound, unprocessable } from '../refusal.js';
import { AirflowUnavailable } from '../identity/dag-access.js';
import type { DeferredVotes } from './deferred/service.js';
import { Approval, ApprovalIdParam, ApprovalList, ApprovalListQuery, ApprovalRegistration, BypassRequest, DeferredVote, VoteRequest } from './schemas.js';
import type { Metrics } from '../metrics/registry.js';
import { type RegistrationVerifier, checkClaim } from './registration.js';
import type { ApprovalService } from './service.js';
import { ApprovalSignal, ApprovalStatusQuery, signalFileParts, signalOf } from './signals.js';

// Channels a request may name for itself; anything else is recorded as the API.
const SELF_NAMED_CHANNELS = new Set(['ui']);

/** People's routes: list, read, vote. Identity comes from the verified token only. */
export function approvalRoutes(service: ApprovalService, metrics: Metrics, deferred: DeferredVotes): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const query = parse(ApprovalListQuery, req.query, 'query');
    res.json(ApprovalList.parse(await service.list(query, personOf(req), scopeOf(req).readable)));
  });

  router.get('/:id', async (req, res) => {
    const { id } = parse(ApprovalIdParam, req.params, 'id');
    res.json(Approval.parse(await service.viewFor(id, scopeOf(req))));
  });

  router.post('/:id/votes', async (req, res) => {
    const { id } = parse(ApprovalIdParam, req.params, 'id');
    const body = parse(VoteRequest, req.body ?? {}, 'body');
    const cast = await castVote({ service, metrics, deferred }, req, id, body, { idempotencyKey: req.get('idempotency-key') ?? null });
    res.status(cast.status).json(cast.body);
  });

  router.post('/:id/bypass', async (req, res) => {
    const { id } = parse(ApprovalIdParam, req.params, 'id');
    const body = parse(BypassRequest, req.body ?? {}, 'body');
    res.json(Approval.parse(await service.breakGlass(id, personOf(req), body, scopeOf(req))));
  });

  return router;
}

export interface VoteRoutesDeps {
  service: ApprovalService;
  metrics: Metrics;
  deferred: DeferredVotes;
}

/**
 * The signed-in person's vote on approval `id`, the one way a request votes (a single vote, each item of a bulk
 * decision): counted now (200), or kept (202) while Airflow cannot say whether the person may decide; a refusal is
 * thrown. Counted in the votes metric by result.
 */
export async function castVote(
  { service, metrics, deferred }: VoteRoutesDeps,
  req: Request,
  id: string,
  body: VoteRequest,
  ctx: { idempotencyKey: string | null; batch?: string },
): Promise<{ status: 200; body: Approval } | { status: 202; body: DeferredVote }> {
  const named = req.get('x-airgate-channel') ?? '';
  const channel = SELF_NAMED_CHANNELS.has(named) ? named : 'api';
  const { idempotencyKey } = ctx;
  if (body.on_behalf_of !== undefined && body.on_behalf_of === personOf(req).user) {
    throw badRequest('on_behalf_of: you vote in your own name without it; nobody is their own deputy', 'on_behalf_of');
  }
  try {
    try {
      const approval = await service.vote(id, personOf(req), body, { channel, idempotencyKey, scope: scopeOf(req), ...(ctx.batch ? { batch: ctx.batch } : {}) });
      metrics.votes.inc({ channel, result: 'recorded' });
      return { status: 200, body: Approval.parse(approval) };
    } catch (err) {
      // A deputy's vote is not kept for later: the delegation it relies on may end before Airflow answers.
      if (!(err instanceof AirflowUnavailable) || body.on_behalf_of !== undefined) throw err;
      const held = await deferred.defer(id, personOf(req), body, { channel, idempotencyKey, token: tokenOf(req) });
      metrics.votes.inc({ channel, result: 'deferred' });
      return { status: 202, body: DeferredVote.parse(held) };
    }
  } catch (err) {
    metrics.votes.inc({ channel, result: 'refused' });
    throw err;
  }
}

/**
 * The Airflow side announcing a request (service token); idempotent on the task try.
 * `signalsDir` is where file signals go; without one, a request for a file signal is refused.
 */
export function registrationHandler(service: ApprovalService, signalsDir: string | null, verifier: RegistrationVerifier): RequestHandler {
  return async (req, res) => {
    const body = parse(ApprovalRegistration, req.body ?? {}, 'body');
    if (body.signals.some((s) => s.kind === 'file')) {
      if (!signalsDir) throw unprocessable('signals_unavailable', 'this bridge has no AIRGATE_SIGNALS_DIR for file signals', 'signals');
      if (!signalFileParts(body)) throw unprocessable('invalid_path', 'dag_id, run_id and task_id must be valid file names for a file signal', 'signals');
    }
    const known = await service.findByTaskTry(body);
    // A repeated registration must say what the first one proved; it changes nothing it proved.
    if (known) checkClaim(body, known);
    const approval = known ? await service.registeredAgain(known, body.timeout_at) : await service.register(await verifier.verify(body, new Date()), 'push');
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
