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
        'HMAC-SHA256 hex, with the bridge\'s audit key, of the canonical JSON (keys sorted recursively) of {seq, at, actor, action, channel, approval_id, reason, details, prev_hash}; plain sha256 for entries before keyed_from',
    }),
  })
  .openapi('AuditEntry');
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditList = z
  .object({ items: z.array(AuditEntry), next_cursor: z.string().nullable() })
  .openapi('AuditList');
export type AuditList = z.infer<typeof AuditList>;

const Moment = z.iso.datetime({ offset: true, error: 'expected an ISO 8601 date-time, e.g. 2026-11-25T10:00:00Z' });

export const AuditListQuery = z
  .object({
    approval_id: z.string().min(1).optional(),
    dag_id: z.string().min(1).optional().openapi({ description: "Entries about this DAG: its approvals' entries and the actions on it (pause, resume, clear, ...)" }),
    action: z
      .string()
      .regex(/^[a-z_]+\.[a-z_]+$/, 'expected an action like action.applied or vote.recorded')
      .optional()
      .openapi({ description: 'Entries of this action only, e.g. `action.applied` (with dag_id: the DAG\'s pause history)' }),
    actor: z.string().min(1).optional().openapi({ description: 'Entries by this person, `system`, or the service account' }),
    since: Moment.optional().openapi({ description: 'Entries at or after this time' }),
    until: Moment.optional().openapi({ description: 'Entries before this time' }),
    cursor: z
      .string()
      .regex(/^\d+$/, 'must be a next_cursor from a previous page')
      // seq is a 32-bit integer column: no entry lies past its largest value, so a larger cursor reads the same empty page.
      .transform((v) => Math.min(Number(v), 2_147_483_647))
      .optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  });
export type AuditListQuery = z.infer<typeof AuditListQuery>;

export const AUDIT_PROBLEMS = ['missing', 'altered', 'mislinked', 'truncated', 'checkpoint_mismatch', 'checkpoint_invalid'] as const;
export const AuditProblem = z.enum(AUDIT_PROBLEMS).openapi('AuditProblem', {
  description:
    'missing: a seq is absent; altered: the entry does not match its keyed hash (also when every later hash was recomputed); mislinked: prev_hash is not the previous entry\'s hash; truncated: entries up to the checkpoint were removed from the end; checkpoint_mismatch: the entry at the checkpoint differs from the one checkpointed; checkpoint_invalid: the checkpoint does not parse or its signature fails',
});
export type AuditProblem = z.infer<typeof AuditProblem>;

export const AuditVerification = z
  .object({
    ok: z.boolean(),
    checked: z.number().int().min(0).openapi({ description: 'Entries read, up to and including the first bad one' }),
    first_bad_seq: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'Lowest seq where the chain breaks (entry missing, altered or mislinked, or the first one removed from the end); null when ok or when only the checkpoint is unreadable' }),
    problem: AuditProblem.nullable().openapi({ description: 'What is wrong at first_bad_seq; null when ok' }),
    head_seq: z.number().int().min(0).openapi({ description: 'The last seq read' }),
    keyed_from: z.number().int().min(1).openapi({ description: 'The first seq hashed with the audit key; earlier entries predate the key (plain sha256)' }),
    checkpoint: z
      .object({ seq: z.number().int().min(0), at: z.iso.datetime() })
      .nullable()
      .openapi({ description: 'The head checkpointed outside the store that the chain was compared with; null when none is configured or written yet' }),
  })
  .openapi('AuditVerification');
export type AuditVerification = z.infer<typeof AuditVerification>;

export const AUDIT_EXPORT_FORMATS = ['json', 'csv'] as const;

export const AuditExportQuery = AuditListQuery.omit({ cursor: true, limit: true }).extend({
  format: z.enum(AUDIT_EXPORT_FORMATS, { error: 'expected json or csv' }).default('json').openapi({ description: 'json (one document) or csv (a row per entry)' }),
});
export type AuditExportQuery = z.infer<typeof AuditExportQuery>;

export const AuditExportEntry = AuditEntry.extend({
  chain_verified: z.boolean().openapi({ description: "Whether the chain was intact up to and including this entry when it was exported (false from the verification's first_bad_seq on)" }),
}).openapi('AuditExportEntry');
export type AuditExportEntry = z.infer<typeof AuditExportEntry>;

export const AuditExport = z
  .object({
    exported_at: z.iso.datetime(),
    exported_by: z.string().openapi({ description: 'Who asked for the export' }),
    filters: AuditExportQuery.omit({ format: true }).openapi({ description: 'The filters the entries were selected by' }),
    verification: AuditVerification.openapi({ description: 'The whole chain verified at export time' }),
    count: z.number().int().min(0),
    entries: z.array(AuditExportEntry),
  })
  .openapi('AuditExport');
export type AuditExport = z.infer<typeof AuditExport>;

/** The columns of a CSV export, in order; details is the entry's details as JSON. */
export const AUDIT_CSV_COLUMNS = ['seq', 'at', 'actor', 'action', 'channel', 'approval_id', 'reason', 'details', 'prev_hash', 'hash', 'chain_verified'] as const;
