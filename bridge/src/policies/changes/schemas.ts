import { z } from '../../zod.js';

export const PolicyVersionState = z.enum(['pending', 'approved', 'rejected']).openapi('PolicyVersionState');

export const PolicyVersion = z
  .object({
    version: z.string().openapi({ description: "First 12 hex characters of the SHA-256 of the text, as decisions record it (policy_version)" }),
    text: z.string(),
    source: z.string().openapi({ description: '`api`, or the path of the watched file an edit of which proposed it' }),
    proposed_by: z.string().nullable().openapi({ description: 'Who proposed it; null for a file edit, which names nobody' }),
    proposed_at: z.iso.datetime(),
    base_version: z.string().nullable().openapi({ description: 'The version in force when it was proposed, which the diff is against' }),
    reason: z.string().nullable(),
    state: PolicyVersionState,
    decided_by: z.string().nullable(),
    decided_at: z.iso.datetime().nullable(),
    decision_reason: z.string().nullable(),
    diff: z.string().openapi({ description: 'Unified diff from base_version to this text (the whole text when there was none)' }),
  })
  .openapi('PolicyVersion');
export type PolicyVersion = z.infer<typeof PolicyVersion>;

export const PolicyOverview = z
  .object({
    in_force: PolicyVersion.openapi({ description: 'The version decisions are made under now: the last one approved' }),
    pending: z.array(PolicyVersion).openapi({ description: 'Changes waiting for someone other than their author, oldest first' }),
  })
  .openapi('PolicyOverview');

export const PolicyVersionList = z.object({ items: z.array(PolicyVersion) }).openapi('PolicyVersionList');

export const PolicyVersionListQuery = z.strictObject({
  state: PolicyVersionState.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const ProposePolicyChange = z
  .strictObject({
    text: z.string().min(1).max(100_000).openapi({ description: 'The whole policies file as YAML, validated as the file is (its request stays below the 256 kB body limit)' }),
    reason: z.string().trim().min(1).max(2000).openapi({ description: 'Why the change is needed, shown to its reviewer' }),
  })
  .openapi('ProposePolicyChange');
export type ProposePolicyChange = z.infer<typeof ProposePolicyChange>;

export const PolicyDecision = z
  .strictObject({
    reason: z.string().trim().min(1).max(2000).optional().openapi({ description: 'Required to reject' }),
  })
  .openapi('PolicyDecision');
export type PolicyDecision = z.infer<typeof PolicyDecision>;

export const PolicyVersionParam = z.object({ version: z.string().regex(/^[0-9a-f]{12}$/, 'a policy version: 12 lowercase hex characters') });
