import { Router } from 'express';
import { Gauge, type Registry } from 'prom-client';
import { parse } from '../http/errors.js';
import { ApprovalIdParam } from '../approvals/schemas.js';
import type { Db } from '../store/db.js';
import { deliveryCounts, listDeliveries, listOutbox } from './queries.js';
import { DeliveryList, DeliveryListQuery, EscalationList, OutboxList, OutboxListQuery } from './schemas.js';

/**
 * People's read-only views of what the bridge sent: the local outbox, delivery rows, and who escalations added.
 * Mount behind the person check. Messages hold summaries only (never a one-click link), so any signed-in
 * person may read them, like the approvals themselves.
 */
export function deliveryRoutes(db: Db): Router {
  const router = Router();
  router.get('/outbox', async (req, res) => {
    res.json(OutboxList.parse(await listOutbox(db, parse(OutboxListQuery, req.query, 'query'))));
  });
  router.get('/deliveries', async (req, res) => {
    res.json(DeliveryList.parse(await listDeliveries(db, parse(DeliveryListQuery, req.query, 'query'))));
  });
  router.get('/approvals/:id/escalations', async (req, res) => {
    const { id } = parse(ApprovalIdParam, req.params, 'id');
    const items = await db.selectFrom('approval_escalation').select(['level', 'step', 'approver', 'reason', 'at']).where('approval_id', '=', id).orderBy('id').execute();
    res.json(EscalationList.parse({ items }));
  });
  return router;
}

/** `airgate_deliveries{state="queued"|"failed"}`: failed ones never reached their channel (their fallback may have). */
export function registerDeliveryMetrics(registry: Registry, db: Db): void {
  new Gauge({
    name: 'airgate_deliveries',
    help: 'Channel deliveries waiting to be sent (queued) or given up on (failed)',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const counts = await deliveryCounts(db);
      this.set({ state: 'queued' }, counts.queued);
      this.set({ state: 'failed' }, counts.failed);
    },
  });
}
