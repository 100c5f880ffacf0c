import express, { type Request } from 'express';
import { type Contract, errors, json, requiredBody } from '../../http/contract.js';
import type { ApprovalService } from '../../approvals/service.js';
import type { AuditTrail } from '../../audit/trail.js';
import { ApiError, type ErrorBody, parse, statusOf } from '../../http/errors.js';
import { Refusal, conflict, forbidden, notFound, unauthenticated } from '../../refusal.js';
import type { Db } from '../../store/db.js';
import { z } from '../../zod.js';
import { Approval } from '../../approvals/schemas.js';
import type { ChannelsConfig } from '../config.js';
import { own } from '../../own.js';
import { freshTimestamp, sameSignature } from '../signatures.js';
import { webhookSignature } from './outbound.js';
import { SqlHookDeliveryStore } from './store.js';

export const HookVote = z
  .object({
    approval_id: z.string().min(1),
    /** The Airflow user the source vouches for; must be one the source is allowed to vote as. */
    user: z.string().min(1),
    option: z.string().min(1),
    reason: z.string().max(2000).optional(),
    params_input: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .openapi('HookVote');

export const HookSource = z.object({ source: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/) });
const DeliveryId = z.string().min(1).max(200);

type InboundHook = ChannelsConfig['webhooks']['inbound'][string];

export interface InboundHookDeps {
  db: Db;
  service: ApprovalService;
  trail: AuditTrail;
  config: ChannelsConfig;
  env: NodeJS.ProcessEnv;
  now: () => Date;
}

const errorBody = (err: ApiError | Refusal): ErrorBody => ({ error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } });

/**
 * `POST /hooks/{source}`: another system votes for one of its users. The raw body is authenticated with the source's
 * secret (`X-Airgate-Signature: sha256=HMAC(secret, timestamp + '.' + delivery id + '.' + body)`, `X-Airgate-Timestamp`
 * within ±5 minutes) and handled once per `X-Airgate-Delivery` id: a replay gets the first answer and changes nothing,
 * and the same request under a new delivery id no longer matches its signature.
 */
export function inboundHookRoutes(contract: Contract, deps: InboundHookDeps): void {
  const deliveries = new SqlHookDeliveryStore(deps.db);
  const refuse = async (source: string, why: string, err: Refusal, details: Record<string, unknown> = {}) => {
    await deps.trail.append(deps.db, { actor: `webhook:${source}`, action: 'hook.refused', channel: `webhook:${source}`, details: { why, kind: err.kind, ...details }, at: deps.now().toISOString() });
    return err;
  };

  async function authenticate(req: Request, source: string): Promise<{ deliveryId: string; hook: InboundHook }> {
    // An own property only: a source named like an Object.prototype member (`constructor`) is simply unknown.
    const hook = own(deps.config.webhooks.inbound, source);
    if (!hook) throw notFound(`no webhook source ${source}`);
    const timestamp = req.get('x-airgate-timestamp');
    if (!freshTimestamp(timestamp, deps.now())) throw await refuse(source, 'stale_timestamp', unauthenticated('X-Airgate-Timestamp missing or more than 5 minutes off'));
    const delivery = DeliveryId.safeParse(req.get('x-airgate-delivery'));
    if (!delivery.success) throw new ApiError(400, 'bad_request', 'X-Airgate-Delivery is required', 'X-Airgate-Delivery');
    // The signature covers the bytes sent; a JSON parser that ran first has lost them.
    const body: unknown = req.body ?? Buffer.alloc(0);
    if (!Buffer.isBuffer(body)) throw new Error('POST /hooks needs the raw body: mount the channels public routes before express.json()');
    const expected = webhookSignature(own(deps.env, hook.secret_env) ?? '', timestamp!, delivery.data, body);
    if (!sameSignature(expected, req.get('x-airgate-signature') ?? '')) throw await refuse(source, 'bad_signature', unauthenticated('bad X-Airgate-Signature'));
    return { deliveryId: delivery.data, hook };
  }

  contract.add(
    {
      method: 'post',
      path: '/hooks/{source}',
      auth: 'signed',
      summary: 'Another system votes for one of its users (HMAC-signed raw body, ±5 minutes, once per delivery id)',
      request: {
        params: HookSource,
        headers: z.object({
          'X-Airgate-Timestamp': z.string().openapi({ description: 'Unix seconds' }),
          'X-Airgate-Signature': z.string().openapi({ description: "sha256=HMAC_SHA256(source secret, timestamp + '.' + delivery id + '.' + raw body), hex" }),
          'X-Airgate-Delivery': z.string().openapi({ description: 'Sender-chosen id, covered by the signature; a replay gets the first answer (X-Airgate-Replay: true)' }),
        }),
        body: requiredBody('application/json', HookVote),
      },
      responses: { 200: json(Approval, 'The approval after the vote'), ...errors(400, 401, 403, 404, 409, 422, 503) },
    },
    express.raw({ type: () => true, limit: '64kb' }),
    async (req, res) => {
    const { source } = parse(HookSource, req.params, 'source');
    const { deliveryId, hook } = await authenticate(req, source);
    const at = deps.now().toISOString();
    if (!(await deliveries.claim(source, deliveryId, at))) {
      const first = await deliveries.firstAnswer(source, deliveryId);
      await deps.trail.append(deps.db, { actor: `webhook:${source}`, action: 'hook.replayed', channel: `webhook:${source}`, details: { delivery: deliveryId, first_status: first?.status ?? null }, at });
      if (!first) throw conflict(`delivery ${deliveryId} is being handled`, 'in_progress');
      res.status(first.status).set('X-Airgate-Replay', 'true').json(first.body);
      return;
    }
    let status = 200;
    let body: unknown;
    try {
      let text: unknown;
      try {
        text = JSON.parse(Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '');
      } catch {
        throw new ApiError(400, 'bad_request', 'body: malformed JSON', 'body');
      }
      const vote = parse(HookVote, text, 'body');
      if (!hook.users.includes(vote.user)) {
        throw await refuse(source, 'user_not_allowed', forbidden(`source ${source} may not vote as ${vote.user}`), { user: vote.user, approval_id: vote.approval_id, delivery: deliveryId });
      }
      const { approval_id, user, ...input } = vote;
      const view = await deps.service.vote(approval_id, { user, role: null }, input, { channel: `webhook:${source}`, idempotencyKey: `hook:${source}:${deliveryId}` });
      body = Approval.parse(view);
    } catch (err) {
      if (!(err instanceof ApiError || err instanceof Refusal)) {
        // Unexpected: release the delivery id so the sender's retry is handled, not answered from a half-done attempt.
        await deliveries.release(source, deliveryId);
        throw err;
      }
      status = statusOf(err);
      body = errorBody(err);
    }
    // A 503 changed nothing and says "try again": the same delivery id must then be handled, not replayed.
    if (status >= 500) await deliveries.release(source, deliveryId);
    else await deliveries.record(source, deliveryId, { status, body });
    res.status(status).json(body);
    },
  );
}
