import type { RequestHandler } from 'express';
import { ApprovalStatusQuery } from '../approvals/signals.js';
import type { ApprovalService } from '../approvals/service.js';
import type { StoredApproval } from '../approvals/store.js';
import { parse } from '../http/errors.js';
import { Refusal, notFound } from '../refusal.js';
import type { Receipts } from './receipt.js';
import { Jwks, Receipt } from './schemas.js';

/** The approval's receipt as the API shows it; 404 `no_receipt` while it is pending. */
export async function receiptOf(receipts: Receipts, approval: StoredApproval): Promise<Receipt> {
  if (!approval.receipt) throw new Refusal('not_found', 'no_receipt', `approval ${approval.id} is ${approval.state}: it has no receipt until it is decided`);
  return Receipt.parse(await receipts.read(approval.receipt));
}

/** `GET /.well-known/jwks.json`: public, so anyone holding a receipt can check it. */
export function jwksHandler(receipts: Receipts): RequestHandler {
  const body = Jwks.parse(receipts.jwks());
  return (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').json(body);
  };
}

/** One task's latest try's receipt, read-only for the service token: what the operator puts in the task's XCom. */
export function receiptSignalHandler(service: ApprovalService, receipts: Receipts): RequestHandler {
  return async (req, res) => {
    const key = parse(ApprovalStatusQuery, req.query, 'query');
    const approval = await service.findLatest(key);
    if (!approval) throw notFound(`no approval for ${key.dag_id}/${key.run_id}/${key.task_id}`);
    res.json(await receiptOf(receipts, approval));
  };
}
