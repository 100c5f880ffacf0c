import { z } from '../zod.js';

const Latency = z.object({
  median_s: z.number().nullable(),
  p90_s: z.number().nullable(),
});

export const Stats = z
  .object({
    pending: z.number().int(),
    latency: Latency.extend({
      by_day: z.array(Latency.extend({ day: z.string(), decided: z.number().int() })),
    }).openapi({ description: 'Seconds from request to final decision, over the window' }),
    sla_by_dag: z
      .array(
        z.object({
          dag_id: z.string(),
          met: z.number().int().openapi({ description: 'Decided by people before the deadline' }),
          breached: z.number().int().openapi({ description: 'Decided after the deadline, expired at it, or still pending past it' }),
          warned: z.number().int().openapi({ description: 'Approvals that got an SLA warning before their deadline' }),
          escalated: z.number().int().openapi({ description: 'Approvals an escalation step (or an escalating deadline) added approvers to' }),
          compliance: z.number().min(0).max(1).nullable().openapi({ description: 'met / (met + breached); null before any approval met or breached' }),
        }),
      )
      .openapi({ description: 'SLA figures per DAG over the window; met and breached count approvals whose policy has a deadline' }),
    failed_effects: z.number().int().openapi({ description: 'Effects on Airflow the effect worker gave up on' }),
    bypassed: z.number().int().openapi({ description: 'Approvals closed as bypassed over the window: their task was marked in Airflow instead of decided' }),
    recent_bypasses: z
      .array(z.object({ id: z.string(), dag_id: z.string(), run_id: z.string(), task_id: z.string(), decided_at: z.iso.datetime() }))
      .openapi({ description: 'The latest bypassed approvals (at most 10), newest first' }),
    window_days: z.number().int(),
  })
  .openapi('Stats');
export type Stats = z.infer<typeof Stats>;

export const StatsQuery = z.object({ days: z.coerce.number().int().min(1).max(90).default(14) });
