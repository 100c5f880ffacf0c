import { z } from 'zod';

const Config = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(8181),
  HOST: z.string().default('127.0.0.1'),
  AIRFLOW_URL: z.url().default('http://localhost:8080'),
  AIRFLOW_USERNAME: z.string().min(1).default('airgate'),
  AIRFLOW_PASSWORD: z.string().min(1),
  AIRFLOW_JWT_SECRET: z.string().min(16),
  AIRFLOW_JWT_AUDIENCE: z.string().min(1).default('apache-airflow'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  AIRGATE_DB_FILE: z.string().min(1).default('airgate.sqlite'),
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(100).default(5000),
  OUTBOX_INTERVAL_MS: z.coerce.number().int().min(100).default(1000),
  HITL_SETTLE_MS: z.coerce.number().int().min(0).default(10_000),
  AIRGATE_SERVICE_TOKEN: z.string().min(16, 'must be at least 16 characters'),
  AIRGATE_POLICIES_FILE: z.string().min(1).optional(),
  /** Where approvals' file signals are written (a directory Airflow's workers read too). */
  AIRGATE_SIGNALS_DIR: z.string().min(1).optional(),
  ACTION_CONFIRM_TTL_MS: z.coerce.number().int().min(5000).default(120_000),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(1200),
  POLICIES_POLL_MS: z.coerce.number().int().min(100).default(2000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
});
export type Config = z.infer<typeof Config>;

/** Reads the environment; a bad value stops the start with one line naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const result = Config.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new Error(`configuration: ${issue?.path.join('.')}: ${issue?.message}`);
}
