import type { Request, Response } from 'express';
import { Gauge, type Registry } from 'prom-client';
import type { ApprovalService } from '../approvals/service.js';
import { ApprovalStatusQuery, signalApproval } from '../approvals/signals.js';
import { scopeOf } from '../http/auth.js';
import { type Contract, errors, json } from '../http/contract.js';
import { parse } from '../http/errors.js';
import type { Db } from '../store/db.js';
import { ApprovalDeliveries, DeliveryList, DeliveryListQuery, MessageList, MessageListQuery } from './schemas.js';
import { SqlDeliveryStore } from './store.js';

/**
 * People's read-only views of what the bridge sent: the stored messages and their delivery rows. Messages hold
 * summaries only (never a one-click link); like the approvals themselves, each person sees those of the DAGs
 * Airflow lets them read, and only admins see addresses.
 */
export function deliveryRoutes(contract: Contract, db: Db): void {
  const store = new SqlDeliveryStore(db);
  const messages = async (req: Request, res: Response) => {
    res.json(MessageList.parse(await store.listMessages(parse(MessageListQuery, req.query, 'query'), scopeOf(req).readable)));
  };
  // `/outbox` is the deprecated name of `/messages`, answered the same for one release.
  for (const [path, deprecated] of [['/api/v1/messages', false], ['/api/v1/outbox', true]] as const) {
    contract.add(
      {
        method: 'get',
        path,
        auth: 'person',
        summary: deprecated
          ? 'Deprecated name of /api/v1/messages, answered the same; removed in the next release'
          : 'Every message the bridge sent or would send, newest first, with its delivery states',
        deprecated,
        request: { query: MessageListQuery },
        responses: { 200: json(MessageList, 'A page of messages'), ...errors(400, 401) },
      },
      messages,
    );
  }
  contract.add(
    {
      method: 'get',
      path: '/api/v1/deliveries',
      auth: 'person',
      summary: 'Channel deliveries, newest first; state=failed lists those that never reached their channel',
      request: { query: DeliveryListQuery },
      responses: { 200: json(DeliveryList, 'A page of deliveries'), ...errors(400, 401) },
    },
    async (req, res) => {
      const scope = scopeOf(req);
      res.json(DeliveryList.parse(await store.listDeliveries(parse(DeliveryListQuery, req.query, 'query'), scope.readable, scope.admin)));
    },
  );
}

/**
 * How one task's approval (its latest try) reached people, read-only for the service token: what a DAG records of
 * its notification paths and their delays. No addresses: they are bearer secrets, and the token is no secret from DAG authors.
 */
export function deliverySignalRoutes(contract: Contract, service: ApprovalService, db: Db): void {
  const store = new SqlDeliveryStore(db);
  contract.add(
    {
      method: 'get',
      path: '/api/v1/signals/deliveries',
      auth: 'service',
      summary: "How one task's approval (latest try) reached people: every delivery, oldest first, without addresses",
      request: { query: ApprovalStatusQuery },
      responses: { 200: json(ApprovalDeliveries, "The approval's deliveries"), ...errors(400, 401, 404) },
    },
    async (req, res) => {
      const approval = await signalApproval((key) => service.findLatest(key), req.query);
      res.json(ApprovalDeliveries.parse({ approval_id: approval.id, items: await store.deliveriesOf(approval.id) }));
    },
  );
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
