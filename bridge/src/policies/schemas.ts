import { CHANNEL_NAMES } from '../channels/config.js';
import { z } from '../zod.js';

// The policies API's bodies and answers (the file's own schema is schema.ts).

const Values = z.record(z.string(), z.unknown());

export const DryRunRequest = z
  .object({
    dag_id: z.string().min(1),
    task_id: z.string().min(1),
    map_index: z.number().int().min(-1).max(Number.MAX_SAFE_INTEGER).default(-1),
    conf: Values.default({}).openapi({ description: "The run's conf as it would be triggered; `when` conditions read it" }),
    params: Values.default({}).openapi({ description: "The HITL form's values (over the conf), as the registration would merge them" }),
    options: z.array(z.string().min(1)).default([]).openapi({ description: "The task's options; each needs a meaning under the policy (none given: not checked)" }),
    requester: z.string().min(1).nullable().optional().openapi({
      description: 'Who would trigger the run: the signed-in person when left out; null for a run nobody triggers (a schedule, an asset event)',
    }),
  })
  .strict()
  .openapi('DryRunRequest');
export type DryRunRequest = z.infer<typeof DryRunRequest>;

/** One approval task to dry-run against a submitted file: what Airflow would say about it is given, not asked. */
const CheckedApproval = z
  .object({
    dag_id: z.string().min(1),
    task_id: z.string().min(1),
    tags: z.array(z.string()).default([]),
    owners: z.array(z.string()).default([]),
    conf: Values.default({}),
    params: Values.default({}),
    options: z.array(z.string().min(1)).default([]),
    requester: z.string().min(1).nullable().optional().openapi({ description: 'Who would trigger the run: the signed-in person when left out; null for a run nobody triggers' }),
  })
  .strict();

export const PolicyCheckRequest = z
  .object({
    // Well inside the bridge's 256 kB JSON body limit, so an over-long file is refused here, naming the field.
    policies: z.string().min(1).max(100_000).openapi({ description: 'The text of a policies file (YAML)' }),
    source: z.string().min(1).max(500).default('policies.yaml').openapi({ description: 'The file name errors are reported under' }),
    approvals: z.array(CheckedApproval).max(500).default([]).openapi({ description: 'Approval tasks to dry-run against the file (from the DAGs folder)' }),
  })
  .strict()
  .openapi('PolicyCheckRequest');
export type PolicyCheckRequest = z.infer<typeof PolicyCheckRequest>;

const Channel = z.enum(CHANNEL_NAMES);

const DryRunPerson = z.object({
  user: z.string(),
  absent: z.boolean().openapi({ description: 'Marked absent in the policies file: not counted towards reaching the quorum' }),
  channels: z.array(Channel).openapi({ description: "Where they would be notified (`messages`, the bridge's own list, always)" }),
  undeliverable: z.array(z.object({ channel: Channel, error: z.string() })).openapi({ description: "Channels of the policy's route that have no address for them (their fallback takes over)" }),
});

const DryRunGroup = z.object({
  name: z.string(),
  rule: z.enum(['any', 'n_of', 'majority', 'unanimous']),
  needed: z.number().int().openapi({ description: 'Approvals the rule needs, counted over the people who may decide' }),
  people: z.array(DryRunPerson),
  roles: z.array(z.string()).openapi({ description: 'Airflow roles that also decide (only Airflow knows who holds them)' }),
  excluded: z.array(z.object({ user: z.string(), reason: z.string() })).openapi({ description: 'Named by the level but barred: self-approval, segregation of duties' }),
});

export const DryRunLevel = z
  .object({
    name: z.string(),
    groups: z.array(DryRunGroup).openapi({ description: 'The level itself, or each of its parallel groups' }),
    reachable: z.boolean(),
    problems: z.array(z.string()),
  })
  .openapi('DryRunLevel');

export const PolicyDryRun = z
  .object({
    policy: z.string().nullable().openapi({ description: 'The policy that would decide the approval; null when none would' }),
    policy_error: z.string().nullable().openapi({ description: 'Why the approval would be held (as registration records it): a condition that cannot be evaluated, an option without an outcome' }),
    policy_version: z.string(),
    policies: z
      .array(
        z.object({
          name: z.string(),
          verdict: z.enum(['matched', 'shadowed', 'dag_id', 'task_id', 'tags', 'condition_false', 'condition_error', 'no_outcome', 'not_reached']),
          detail: z.string(),
        }),
      )
      .openapi({ description: 'Every policy of the file, in order, with why it does or does not take the request' }),
    levels: z.array(DryRunLevel),
    deadline: z
      .object({
        due_at: z.iso.datetime(),
        action: z.string().openapi({ description: 'reject, approve, fail, escalate or "answer OPTION"' }),
        sla_warning_at: z.iso.datetime().nullable(),
        escalate_to: z.array(z.string()),
      })
      .nullable()
      .openapi({ description: "The policy's deadline counted from now; null without one" }),
    reminders: z.object({ every: z.string(), first_at: z.iso.datetime().nullable() }).nullable(),
    escalations: z.array(z.object({ after: z.string(), at: z.iso.datetime(), to: z.array(z.string()) })),
    break_glass: z.object({ allowed: z.array(z.string()), reviewers: z.array(z.string()) }).nullable(),
    notifications: z
      .object({ channels: z.array(Channel), fallback: Channel })
      .nullable()
      .openapi({ description: "The policy's notification route (besides `messages`); null when the bridge has no channels" }),
    reachable: z.boolean().openapi({ description: 'Whether every level can be decided with the people resolved now' }),
    problems: z.array(z.string()),
    notes: z.array(z.string()).openapi({ description: 'What the preview cannot know (role holders, Airflow’s own timeout)' }),
  })
  .openapi('PolicyDryRun');

export const PolicyCheck = z
  .object({
    valid: z.boolean(),
    error: z.string().nullable().openapi({ description: 'The first problem of the file, as FILE:LINE:COLUMN: PATH: DETAIL' }),
    version: z.string().nullable().openapi({ description: "The file's version (hash of its text) when it is valid" }),
    results: z.array(PolicyDryRun.extend({ dag_id: z.string(), task_id: z.string() })).openapi({ description: 'Each approval task dry-run against the file, in the order given' }),
  })
  .openapi('PolicyCheck');
