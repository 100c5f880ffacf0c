import { randomUUID } from 'node:crypto';
import { type VoteRoutesDeps, castVote } from '../approvals/routes.js';
import { Approval, ApprovalIdParam } from '../approvals/schemas.js';
import { personOf, scopeOf } from '../http/auth.js';
import { type Contract, errors, json, requiredBody } from '../http/contract.js';
import { parse, statusOf } from '../http/errors.js';
import { z } from '../zod.js';
import { Refusal } from '../refusal.js';
import { type BulkDecisionItem, BulkDecisionRequest, BulkDecisionResult, ClaimRequest } from './schemas.js';
import type { QueueService } from './service.js';

/**
 * The review queue: claims on pending approvals and bulk decisions. The queue's items are the approvals a person
 * may decide (GET /api/v1/approvals?state=pending&mine=true, by DAG or policy). Mount behind the person check.
 */
export function queueRoutes(contract: Contract, queue: QueueService, votes: VoteRoutesDeps): void {
  contract.add(
    {
      method: 'put',
      path: '/api/v1/queue/{id}/claim',
      auth: 'person',
      summary: "Review queue: claim a pending approval the signed-in person may decide (or renew one's own claim); until it ends, others' votes are refused with 409 claimed",
      request: { params: ApprovalIdParam, body: { content: { 'application/json': { schema: ClaimRequest } } } },
      responses: { 200: json(Approval, 'The approval with its claim'), ...errors(400, 401, 403, 404, 409, 503) },
    },
    async (req, res) => {
    const { id } = parse(ApprovalIdParam, req.params, 'id');
    const { ttl_seconds } = parse(ClaimRequest, req.body ?? {}, 'body');
    res.json(Approval.parse(await queue.claim(id, personOf(req), scopeOf(req), ttl_seconds)));
    },
  );

  contract.add(
    {
      method: 'delete',
      path: '/api/v1/queue/{id}/claim',
      auth: 'person',
      summary: "Review queue: release one's own claim (nothing to do when nobody holds one)",
      request: { params: ApprovalIdParam },
      responses: { 200: json(Approval, 'The approval, unclaimed'), ...errors(400, 401, 404, 409, 503) },
    },
    async (req, res) => {
    const { id } = parse(ApprovalIdParam, req.params, 'id');
    res.json(Approval.parse(await queue.release(id, personOf(req), scopeOf(req))));
    },
  );

  /**
   * One option, reason and form input for many approvals: each is a vote of its own through the same path as
   * POST /approvals/{id}/votes (policy, claims, Airflow's permission, audit), one after another, and a refusal of
   * one does not stop the others. An error that is no refusal (the store unreachable) ends the request; the items
   * before it stand, and a retry with the same Idempotency-Key counts none of them twice.
   */
  contract.add(
    {
      method: 'post',
      path: '/api/v1/queue/decisions',
      auth: 'person',
      summary: 'Review queue: one option and reason for many approvals, each voted on, audited and refused on its own, as POST /api/v1/approvals/{id}/votes would',
      request: {
        headers: z.object({ 'Idempotency-Key': z.string().optional() }),
        body: requiredBody('application/json', BulkDecisionRequest),
      },
      responses: { 200: json(BulkDecisionResult, 'One result per approval: counted, kept until Airflow answers, or refused with its code'), ...errors(400, 401, 503) },
    },
    async (req, res) => {
    const { approval_ids, ...vote } = parse(BulkDecisionRequest, req.body ?? {}, 'body');
    const key = req.get('idempotency-key') ?? null;
    const batch = randomUUID();
    const items: BulkDecisionItem[] = [];
    for (const id of approval_ids) {
      try {
        const cast = await castVote(votes, req, id, vote, { idempotencyKey: key && `${key}:${id}`, batch });
        items.push({ approval_id: id, status: cast.status, state: cast.body.state, error: null });
      } catch (err) {
        if (!(err instanceof Refusal)) throw err;
        items.push({ approval_id: id, status: statusOf(err), state: null, error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } });
      }
    }
    const count = (status: (s: number) => boolean) => items.filter((item) => status(item.status)).length;
    res.json(BulkDecisionResult.parse({ batch, items, counted: count((s) => s === 200), deferred: count((s) => s === 202), refused: count((s) => s >= 400) }));
    },
  );
}
