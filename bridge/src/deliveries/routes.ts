import { type RequestHandler, Router } from 'express';
import { Gauge, type Registry } from 'prom-client';
import type { ApprovalService } from '../approvals/service.js';
import { ApprovalStatusQuery } from '../approvals/signals.js';
import { scopeOf } from '../http/auth.js';
import { parse } from '../http/errors.js';
import { notFound } from '../refusal.js';
import type { Db } from '../store/db.js';
import { ApprovalDeliveries, DeliveryList, DeliveryListQuery, MessageList, MessageListQuery } from './schemas.js';
import { SqlDeliveryStore } from './store.js';

/**
 * People's read-only views of what the bridge sent: the stored messages and their delivery rows.
 * Mount behind the person check. Messages hold summaries only (never a one-click link); like the approvals
 * themselves, each person sees those of the DAGs Airflow lets them read, and only admins see addresses.
 */
export function deliveryRoutes(db: Db): Router {
  const store = new SqlDeliveryStore(db);
  const router = Router();
  // `/outbox` is the deprecated name of `/messages`, answered the same for one release.
  router.get(['/messages', '/outbox'], async (req, res) => {
    res.json(MessageList.parse(await store.listMessages(parse(MessageListQuery, req.query, 'query'), scopeOf(req).readable)));
  });
  router.get('/deliveries', async (req, res) => {
    const scope = scopeOf(req);
    res.json(DeliveryList.parse(await store.listDeliveries(parse(DeliveryListQuery, req.query, 'query'), scope.readable, scope.admin)));
  });
  return router;
}

/**
 * How one task's approval (its latest try) reached people, read-only for the service token: what a DAG records of
 * its notification paths and their delays. No addresses: they are bearer secrets, and the token is no secret from DAG authors.
 */
export function deliveryStatusHandler(service: ApprovalService, db: Db): RequestHandler {
  const store = new SqlDeliveryStore(db);
  return async (req, res) => {
    const key = parse(ApprovalStatusQuery, req.query, 'query');
    const approval = await service.findLatest(key);
    if (!approval) throw notFound(`no approval for ${key.dag_id}/${key.run_id}/${key.task_id}`);
    res.json(ApprovalDeliveries.parse({ approval_id: approval.id, items: await store.deliveriesOf(approval.id) }));
  };
}

/** `airgate_deliveries{state="queued"|"failed"}`: failed ones never reached their channel (their fallback may have). */
export function registerDeliveryMetrics(registry: Registry, db: Db): void {
  const store = new SqlDeliveryStore(db);
  new Gauge({
    name: 'airgate_deliveries',
    help: 'Channel deliveries waiting to be sent (queued) or given up on (failed)',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const counts = await store.counts();
      this.set({ state: 'queued' }, counts.queued);
      this.set({ state: 'failed' }, counts.failed);
    },
  });
}
