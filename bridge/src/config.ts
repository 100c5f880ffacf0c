import { z } from 'zod';
import { DEFAULT_HITL_SETTLE_MS } from './effects/apply.js';
import { DURATION_HINT, parseDuration } from './policies/duration.js';

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
  EFFECTS_INTERVAL_MS: z.coerce.number().int().min(100).default(5000),
  HITL_SETTLE_MS: z.coerce.number().int().min(0).default(DEFAULT_HITL_SETTLE_MS),
  AIRGATE_SERVICE_TOKEN: z.string().min(16, 'must be at least 16 characters'),
  /** Keys the audit chain's hashes; the store never holds it. */
  AIRGATE_AUDIT_KEY: z.string().min(32, 'must be at least 32 characters'),
  /** Where the audit chain's head is checkpointed outside the store (a file the operator chooses). */
  AIRGATE_AUDIT_CHECKPOINT_FILE: z.string().min(1).optional(),
  /** How often the head is checkpointed besides after every decision; at most a minute. */
  AUDIT_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().min(1000).max(60_000).default(60_000),
  /**
   * Decisions' receipt keys (PEM PKCS#8 or JWK private keys, Ed25519 or P-256): the last by file name signs, all
   * verify. Unset: `receipt-keys/` beside AIRGATE_DB_FILE, where a key is generated on first start.
   */
  AIRGATE_RECEIPT_KEYS_DIR: z.string().min(1).optional(),
  AIRGATE_POLICIES_FILE: z.string().min(1).optional(),
  /** Where approvals' file signals are written (a directory Airflow's workers read too). */
  AIRGATE_SIGNALS_DIR: z.string().min(1).optional(),
  ACTION_CONFIRM_TTL_MS: z.coerce.number().int().min(5000).default(120_000),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(1200),
  // How long Airflow's answer about a token (readable DAGs, not revoked) is trusted: a logout takes effect within it.
  ACCESS_CACHE_MS: z.coerce.number().int().min(1000).max(60_000).default(30_000),
  POLICIES_POLL_MS: z.coerce.number().int().min(100).default(2000),
  /**
   * How a new policies text takes effect: `file`, when the watched file changes; `four-eyes`, once an Airflow admin
   * other than its author approves it (an edit of the file is proposed like any change).
   */
  AIRGATE_POLICY_CHANGES: z.enum(['file', 'four-eyes']).default('file'),
  /** How long a decided approval's working state is kept (a duration: 90d, 12h); unset keeps it for ever. */
  APPROVAL_RETENTION: z
    .string()
    .transform((text, ctx) => parseDuration(text) ?? (ctx.addIssue({ code: 'custom', message: DURATION_HINT }), z.NEVER))
    .optional(),
  RETENTION_INTERVAL_MS: z.coerce.number().int().min(1000).default(3_600_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
})
  .refine((c) => c.AIRGATE_AUDIT_KEY !== c.AIRGATE_SERVICE_TOKEN, { path: ['AIRGATE_AUDIT_KEY'], message: 'must differ from AIRGATE_SERVICE_TOKEN' });
export type Config = z.infer<typeof Config>;

/** Reads the environment; a bad value stops the start with one line naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const result = Config.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new Error(`configuration: ${issue?.path.join('.')}: ${issue?.message}`);
}
