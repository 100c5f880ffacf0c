import { z } from '../zod.js';
import { Bypass, ContentDigest } from '../approvals/schemas.js';
import { ApprovalState } from '../approvals/states.js';

/** The version of the receipt's payload format; a change to its fields takes the next one. */
export const RECEIPT_VERSION = 1;

export const ReceiptVote = z
  .object({
    user: z.string(),
    on_behalf_of: z.string().nullable().openapi({ description: "The delegator whose seat this deputy's vote filled; null for a vote in the voter's own name" }),
    option: z.string(),
    reason: z.string().nullable(),
    channel: z.string(),
    at: z.iso.datetime(),
    level: z.number().int(),
    content_digest: ContentDigest.nullable().openapi({ description: 'What the voter saw; null on votes recorded before the bridge kept it' }),
  })
  .openapi('ReceiptVote');

export const ReceiptPayload = z
  .object({
    receipt_version: z.literal(RECEIPT_VERSION),
    issuer: z.string().openapi({ description: "The bridge that signed it (its public URL)" }),
    issued_at: z.iso.datetime(),
    approval_id: z.string(),
    dag_id: z.string(),
    run_id: z.string(),
    task_id: z.string(),
    map_index: z.number().int(),
    try_number: z.number().int(),
    content_digest: ContentDigest,
    votes: z.array(ReceiptVote).openapi({ description: 'The votes that counted (a vote replaced by its voter is left out)' }),
    bypass: Bypass.nullable().openapi({ description: 'The break-glass bypass that decided it, if one did' }),
    policy: z.object({ name: z.string().nullable(), version: z.string().nullable() }),
    outcome: z.object({
      state: ApprovalState,
      option: z.string().nullable().openapi({ description: 'The option Airflow was answered with; null when none was (a failed task, a cancelled request)' }),
      params_input: z.record(z.string(), z.unknown()),
    }),
    decided_at: z.iso.datetime(),
  })
  .openapi('ReceiptPayload', { description: "What a receipt's JWS signs (its payload, JSON)" });
export type ReceiptPayload = z.infer<typeof ReceiptPayload>;

export const Receipt = z
  .object({
    receipt: z.string().openapi({ description: 'The compact JWS (EdDSA or ES256), its header naming the signing key (kid)' }),
    kid: z.string().openapi({ description: 'The key that signed it, one of GET /.well-known/jwks.json' }),
    verified: z.boolean().openapi({ description: "Whether it verifies against the bridge's published keys now (false once its key was removed)" }),
    digest: z.string().openapi({ description: '`sha256:<hex>` of the JWS text: the receipt id the task note names' }),
    payload: ReceiptPayload,
  })
  .openapi('Receipt', { description: "A final decision's signed receipt, verifiable offline with the bridge's JWKS" });
export type Receipt = z.infer<typeof Receipt>;

export const Jwks = z
  .object({
    keys: z.array(
      z
        .object({ kty: z.string(), crv: z.string(), x: z.string(), y: z.string().optional(), kid: z.string(), alg: z.string(), use: z.literal('sig') })
        .openapi('ReceiptJwk'),
    ),
  })
  .openapi('Jwks', { description: "The public keys receipts are signed with; the newest signs, the older ones keep old receipts verifiable" });
