import { z } from '../zod.js';
import { ApprovalState, VoteRequest } from '../approvals/schemas.js';
import { ErrorBody } from '../http/errors.js';

/** How long a claim holds unless renewed, and the longest one a reviewer may ask for. */
export const CLAIM_SECONDS = { default: 300, max: 1800 } as const;
/** The most approvals one bulk decision may name: each is a vote of its own, in one request. */
export const MAX_BULK = 100;

export const ClaimRequest = z
  .object({
    ttl_seconds: z.number().int().min(1).max(CLAIM_SECONDS.max).default(CLAIM_SECONDS.default).openapi({
      description: 'How long the claim holds unless renewed (claiming again renews it); once it ends the approval is free',
    }),
  })
  .strict()
  .openapi('ClaimRequest');
export type ClaimRequest = z.infer<typeof ClaimRequest>;

export const BulkDecisionRequest = VoteRequest.extend({
  approval_ids: z
    .array(z.string().min(1))
    .min(1)
    .max(MAX_BULK)
    .refine((ids) => new Set(ids).size === ids.length, 'approval_ids must not repeat an id')
    .openapi({ description: 'The approvals to vote on, each with the same option, reason and form input', uniqueItems: true }),
})
  .strict()
  .openapi('BulkDecisionRequest');
export type BulkDecisionRequest = z.infer<typeof BulkDecisionRequest>;

export const BulkDecisionItem = z
  .object({
    approval_id: z.string(),
    status: z.number().int().openapi({
      description: "What POST /api/v1/approvals/{id}/votes would have answered for this item: 200 counted, 202 kept until Airflow answers, else the refusal's status",
    }),
    state: z.union([ApprovalState, z.literal('awaiting_airflow')]).nullable().openapi({
      description: "The approval's state after the vote (awaiting_airflow: kept, not yet counted); null when refused",
    }),
    error: ErrorBody.shape.error
      .nullable()
      .openapi({ description: "Why this item was refused, in the contract's error shape; null when the vote was taken" }),
  })
  .openapi('BulkDecisionItem');
export type BulkDecisionItem = z.infer<typeof BulkDecisionItem>;

export const BulkDecisionResult = z
  .object({
    batch: z.string().openapi({ description: "Names this bulk decision in each item's audit entry (details.batch)" }),
    items: z.array(BulkDecisionItem).openapi({ description: 'One result per approval id, in the order given' }),
    counted: z.number().int(),
    deferred: z.number().int(),
    refused: z.number().int(),
  })
  .openapi('BulkDecisionResult');
export type BulkDecisionResult = z.infer<typeof BulkDecisionResult>;
