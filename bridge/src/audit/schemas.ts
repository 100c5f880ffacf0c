import { z } from '../zod.js';

export const AuditEntry = z
  .object({
    seq: z.number().int().min(1).openapi({ description: 'Position in the trail: contiguous from 1, so a missing entry shows as a gap' }),
    at: z.iso.datetime(),
    actor: z.string().openapi({ description: 'A person, `system`, or the service account' }),
    action: z.string().openapi({ example: 'vote.recorded' }),
    channel: z.string().nullable(),
    approval_id: z.string().nullable(),
    reason: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    prev_hash: z.string().openapi({ description: 'hash of the previous entry; 64 zeros for seq 1' }),
    hash: z.string().openapi({
      description:
        'sha256 hex of the canonical JSON (keys sorted recursively) of {seq, at, actor, action, channel, approval_id, reason, details, prev_hash}',
    }),
  })
  .openapi('AuditEntry');
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditList = z
  .object({ items: z.array(AuditEntry), next_cursor: z.string().nullable() })
  .openapi('AuditList');
export type AuditList = z.infer<typeof AuditList>;

export const AuditListQuery = z.object({
  approval_id: z.string().min(1).optional(),
  cursor: z
    .string()
    .regex(/^\d+$/, 'must be a next_cursor from a previous page')
    // seq is a 32-bit integer column; a larger cursor would fail in the database instead of here.
    .refine((v) => Number(v) <= 2_147_483_647, 'must be a next_cursor from a previous page')
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type AuditListQuery = z.infer<typeof AuditListQuery>;

export const AuditVerification = z
  .object({
    ok: z.boolean(),
    checked: z.number().int().min(0).openapi({ description: 'Entries read, up to and including the first bad one' }),
    first_bad_seq: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'Lowest seq where the chain breaks (entry missing, altered or mislinked); null when ok' }),
  })
  .openapi('AuditVerification');
export type AuditVerification = z.infer<typeof AuditVerification>;
