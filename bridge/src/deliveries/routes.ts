import { Router } from 'express';
import { Gauge, type Registry } from 'prom-client';
import { scopeOf } from '../http/auth.js';
import { parse } from '../http/errors.js';
import type { Db } from '../store/db.js';
import { DeliveryList, DeliveryListQuery, MessageList, MessageListQuery } from './schemas.js';
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
