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
    sla_by_dag: z.array(z.object({ dag_id: z.string(), met: z.number().int(), breached: z.number().int() })),
    failed_effects: z.number().int().openapi({ description: 'Effects on Airflow the outbox gave up on' }),
    window_days: z.number().int(),
  })
  .openapi('Stats');
export type Stats = z.infer<typeof Stats>;

export const StatsQuery = z.object({ days: z.coerce.number().int().min(1).max(90).default(14) });
