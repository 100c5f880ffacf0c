import { ApprovalIdParam } from '../approvals/schemas.js';
import type { ApprovalService } from '../approvals/service.js';
import { ApprovalStatusQuery, signalApproval } from '../approvals/signals.js';
import { type Contract, errors, json } from '../http/contract.js';
import { scopeOf } from '../http/auth.js';
import { parse } from '../http/errors.js';
import { EscalationList } from './schemas.js';
import type { EscalationStore } from './store.js';

/** Who escalations added to an approval's levels; like the approvals themselves, only for DAGs the person may read. */
export function escalationRoutes(contract: Contract, service: ApprovalService, store: EscalationStore): void {
  contract.add(
    {
      method: 'get',
      path: '/api/v1/approvals/{id}/escalations',
      auth: 'person',
      summary: 'Approvers escalations added to the approval: who, to which level, when and why',
      request: { params: ApprovalIdParam },
      responses: { 200: json(EscalationList, 'Escalations, oldest first'), ...errors(401, 404) },
    },
    async (req, res) => {
      const { id } = parse(ApprovalIdParam, req.params, 'id');
      await service.viewFor(id, scopeOf(req));
      res.json(EscalationList.parse({ items: await store.list(id) }));
    },
  );
}

/**
 * The escalation chain of one task's approval (its latest try), read-only for the service token: what a DAG records
 * of who was added while nobody answered. Who may decide is not the token's to know beyond that.
 */
export function escalationSignalRoutes(contract: Contract, service: ApprovalService, store: EscalationStore): void {
  contract.add(
    {
      method: 'get',
      path: '/api/v1/signals/escalations',
      auth: 'service',
      summary: "The escalation chain of one task's approval (latest try), for the DAG that records it",
      request: { query: ApprovalStatusQuery },
      responses: { 200: json(EscalationList, 'Who escalations added, oldest first'), ...errors(400, 401, 404) },
    },
    async (req, res) => {
      const approval = await signalApproval((key) => service.findLatest(key), req.query);
      res.json(EscalationList.parse({ items: await store.list(approval.id) }));
    },
  );
}
