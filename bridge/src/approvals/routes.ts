import type { Request } from 'express';
import { type Contract, errors, json, requiredBody } from '../http/contract.js';
import { personOf, scopeOf, tokenOf } from '../http/auth.js';
import { badRequest, parse } from '../http/errors.js';
import { unprocessable } from '../refusal.js';
import { AirflowUnavailable } from '../identity/dag-access.js';
import { z } from '../zod.js';
import type { DeferredVotes } from './deferred/service.js';
import { Approval, ApprovalIdParam, ApprovalList, ApprovalListQuery, ApprovalRegistration, BypassRequest, DeferredVote, VoteRequest } from './schemas.js';
import type { Metrics } from '../metrics/registry.js';
import { type RegistrationVerifier, checkClaim } from './registration.js';
import type { ApprovalService } from './service.js';
import { ApprovalSignal, ApprovalStatusQuery, signalApproval, signalFileParts, signalOf } from './signals.js';

// Channels a request may name for itself; anything else is recorded as the API.
const SELF_NAMED_CHANNELS = new Set(['ui']);

export interface ApprovalRoutesDeps extends VoteRoutesDeps {
  /** Checks each registration against Airflow before it is stored. */
  registrations: RegistrationVerifier;
  /** Where file signals go; without one, a request for a file signal is refused. */
  signalsDir: string | null;
}

/**
 * People's routes (list, read, vote, bypass; identity comes from the verified token only), and the Airflow side's
 * (register, a sensor's read-only view) with the service token.
 */
export function approvalRoutes(contract: Contract, deps: ApprovalRoutesDeps): void {
  const { service } = deps;
  contract.add(
    {
      method: 'get',
      path: '/api/v1/approvals',
      auth: 'person',
      summary: 'List approvals',
      request: { query: ApprovalListQuery },
      responses: { 200: json(ApprovalList, 'A page of approvals'), ...errors(400, 401) },
    },
    async (req, res) => {
      const query = parse(ApprovalListQuery, req.query, 'query');
      res.json(ApprovalList.parse(await service.list(query, personOf(req), scopeOf(req).readable)));
    },
  );

  contract.add(
    {
      method: 'get',
      path: '/api/v1/approvals/{id}',
      auth: 'person',
      summary: 'Get one approval',
      request: { params: ApprovalIdParam },
      responses: { 200: json(Approval, 'The approval'), ...errors(401, 404) },
    },
    async (req, res) => {
      const { id } = parse(ApprovalIdParam, req.params, 'id');
      res.json(Approval.parse(await service.viewFor(id, scopeOf(req))));
    },
  );

  contract.add(
    {
      method: 'post',
      path: '/api/v1/approvals/{id}/votes',
      auth: 'person',
      summary: 'Vote on an approval as the signed-in person',
      request: {
        params: ApprovalIdParam,
        headers: z.object({ 'Idempotency-Key': z.string().optional() }),
        body: requiredBody('application/json', VoteRequest),
      },
      responses: {
        200: json(Approval, 'The approval after the vote'),
        202: json(DeferredVote, 'Airflow could not be asked whether the voter may decide: the vote is kept and counted once it answers'),
        ...errors(400, 401, 403, 404, 409, 422, 503),
      },
    },
    async (req, res) => {
      const { id } = parse(ApprovalIdParam, req.params, 'id');
      const body = parse(VoteRequest, req.body ?? {}, 'body');
      const cast = await castVote(deps, req, id, body, { idempotencyKey: req.get('idempotency-key') ?? null });
      res.status(cast.status).json(cast.body);
    },
  );

  contract.add(
    {
      method: 'post',
      path: '/api/v1/approvals/{id}/bypass',
      auth: 'person',
      summary: "Break-glass: decide a pending approval at once, past its policy's levels, as someone its break_glass allows; opens an after-the-fact review",
      request: { params: ApprovalIdParam, body: requiredBody('application/json', BypassRequest) },
      responses: { 200: json(Approval, 'The bypassed approval (state bypassed, with its bypass and review id)'), ...errors(400, 401, 403, 404, 409, 422, 503) },
    },
    async (req, res) => {
      const { id } = parse(ApprovalIdParam, req.params, 'id');
      const body = parse(BypassRequest, req.body ?? {}, 'body');
      res.json(Approval.parse(await service.breakGlass(id, personOf(req), body, scopeOf(req))));
    },
  );

  // Airflow's workers and sensors call these with the service token: a burst from them is not abuse.
  contract.add(
    {
      method: 'post',
      path: '/api/v1/approvals',
      auth: 'service',
      summary: "The Airflow side announces an approval; checked against Airflow's HITL request and run before it is stored, idempotent on the task try",
      request: { body: requiredBody('application/json', ApprovalRegistration) },
      responses: {
        200: json(Approval, 'Already registered: the stored approval, unchanged'),
        201: json(Approval, 'Registered'),
        ...errors(400, 401, 403, 422, 503),
      },
    },
    async (req, res) => {
      const body = parse(ApprovalRegistration, req.body ?? {}, 'body');
      if (body.signals.some((s) => s.kind === 'file')) {
        if (!deps.signalsDir) throw unprocessable('signals_unavailable', 'this bridge has no AIRGATE_SIGNALS_DIR for file signals', 'signals');
        if (!signalFileParts(body)) throw unprocessable('invalid_path', 'dag_id, run_id and task_id must be valid file names for a file signal', 'signals');
      }
      const known = await service.findByTaskTry(body);
      // A repeated registration must say what the first one proved; it changes nothing it proved.
      if (known) checkClaim(body, known);
      const approval = known ? await service.registeredAgain(known, body) : await service.register(await deps.registrations.verify(body, new Date()), 'push');
      res.status(known ? 200 : 201).json(Approval.parse(service.withProgress(approval)));
    },
  );

  contract.add(
    {
      method: 'get',
      path: '/api/v1/signals/approvals',
      auth: 'service',
      summary: "A sensor's read-only view of one task's approval: the latest try's state and decision",
      request: { query: ApprovalStatusQuery },
      responses: { 200: json(ApprovalSignal, 'The approval as signals publish it'), ...errors(400, 401, 404) },
    },
    async (req, res) => {
      const approval = await signalApproval((key) => service.findLatest(key), req.query);
      res.json(ApprovalSignal.parse(signalOf(approval)));
    },
  );
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
