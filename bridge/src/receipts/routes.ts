import { ApprovalIdParam } from '../approvals/schemas.js';
import type { ApprovalService } from '../approvals/service.js';
import { ApprovalStatusQuery, signalApproval } from '../approvals/signals.js';
import type { StoredApproval } from '../approvals/store.js';
import { type Contract, errors, json } from '../http/contract.js';
import { scopeOf } from '../http/auth.js';
import { parse } from '../http/errors.js';
import { Refusal } from '../refusal.js';
import type { Receipts } from './receipt.js';
import { Jwks, Receipt } from './schemas.js';

/** The approval's receipt as the API shows it; 404 `no_receipt` while it is pending. */
export async function receiptOf(receipts: Receipts, approval: StoredApproval): Promise<Receipt> {
  if (!approval.receipt) throw new Refusal('not_found', 'no_receipt', `approval ${approval.id} is ${approval.state}: it has no receipt until it is decided`);
  return Receipt.parse(await receipts.read(approval.receipt));
}

/**
 * A decided approval's receipt for people who may read it, the latest try's for the operator (service token,
 * read-only: what it puts in the task's XCom), and the public keys that verify receipts, for anyone holding one.
 */
export function receiptRoutes(contract: Contract, service: ApprovalService, receipts: Receipts): void {
  contract.add(
    {
      method: 'get',
      path: '/api/v1/approvals/{id}/receipt',
      auth: 'person',
      summary: "A decided approval's signed receipt (JWS) and its payload; 404 no_receipt while it is pending",
      request: { params: ApprovalIdParam },
      responses: { 200: json(Receipt, 'The receipt'), ...errors(401, 404) },
    },
    async (req, res) => {
      const { id } = parse(ApprovalIdParam, req.params, 'id');
      res.json(await receiptOf(receipts, await service.viewFor(id, scopeOf(req))));
    },
  );

  contract.add(
    {
      method: 'get',
      path: '/api/v1/signals/receipts',
      auth: 'service',
      summary: "The receipt of one task's approval (latest try), for the operator to put in the task's XCom; 404 no_receipt while it is pending",
      request: { query: ApprovalStatusQuery },
      responses: { 200: json(Receipt, 'The receipt'), ...errors(400, 401, 404) },
    },
    async (req, res) => {
      res.json(await receiptOf(receipts, await signalApproval((key) => service.findLatest(key), req.query)));
    },
  );

  const keys = Jwks.parse(receipts.jwks());
  contract.add(
    {
      method: 'get',
      path: '/.well-known/jwks.json',
      auth: 'public',
      summary: 'The public keys that verify receipts (no authentication)',
      responses: { 200: json(Jwks, 'The key set') },
    },
    (_req, res) => {
      res.set('Cache-Control', 'public, max-age=300').json(keys);
    },
  );
}
