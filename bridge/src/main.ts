import { dirname, join, resolve } from 'node:path';
import type { PolicySource } from './approvals/service.js';
import { loadChannelSettings } from './channels/settings.js';
import { loadConfig } from './config.js';
import { createLogger } from './logging.js';
import { PolicyFile } from './policies/index.js';
import type { PolicyChanges } from './policies/changes/service.js';
import { defaultPolicies } from './policies/defaults.js';
import { ReceiptKeys } from './receipts/keys.js';
import { createServices } from './services.js';
import { createDb, migrate } from './store/db.js';

const fail = (message: string): never => {
  console.error(`airgate bridge: ${message}`);
  process.exit(2);
};

// The process: reads the environment, opens the store and the policies, and runs the bridge createServices wires.
async function main() {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    return fail((err as Error).message);
  }
  const log = createLogger(config.LOG_LEVEL);
  const db = createDb({
    databaseUrl: config.DATABASE_URL,
    sqliteFile: config.AIRGATE_DB_FILE,
    onIdleError: (err) => log.warn({ err }, 'store connection lost; reconnecting on the next query'),
  });
  await migrate(db);
  let policies: PolicySource;
  let policyFile: PolicyFile | null = null;
  if (config.AIRGATE_POLICIES_FILE) {
    policyFile = new PolicyFile(config.AIRGATE_POLICIES_FILE);
    try {
      policyFile.load();
    } catch (err) {
      return fail((err as Error).message);
    }
    policies = policyFile;
  } else {
    const fixed = defaultPolicies();
    policies = { current: () => fixed };
  }

  let channelSettings;
  try {
    channelSettings = loadChannelSettings(process.env, config.AIRGATE_SERVICE_TOKEN);
  } catch (err) {
    return fail((err as Error).message);
  }
  let receiptKeys;
  try {
    receiptKeys = ReceiptKeys.fromDirectory(config.AIRGATE_RECEIPT_KEYS_DIR ?? join(dirname(resolve(config.AIRGATE_DB_FILE)), 'receipt-keys'));
  } catch (err) {
    return fail(`AIRGATE_RECEIPT_KEYS_DIR: ${(err as Error).message}`);
  }
  const services = createServices(
    db,
    policies,
    {
      airflowUrl: config.AIRFLOW_URL,
      airflowUsername: config.AIRFLOW_USERNAME,
      airflowPassword: config.AIRFLOW_PASSWORD,
      jwtSecret: config.AIRFLOW_JWT_SECRET,
      jwtAudience: config.AIRFLOW_JWT_AUDIENCE,
      serviceToken: config.AIRGATE_SERVICE_TOKEN,
      auditKey: new TextEncoder().encode(config.AIRGATE_AUDIT_KEY),
      receiptKeys,
      receiptIssuer: channelSettings.publicUrl,
      auditCheckpointFile: config.AIRGATE_AUDIT_CHECKPOINT_FILE ?? null,
      auditCheckpointIntervalMs: config.AUDIT_CHECKPOINT_INTERVAL_MS,
      databaseUrl: config.DATABASE_URL ?? null,
      effectsIntervalMs: config.EFFECTS_INTERVAL_MS,
      hitlSettleMs: config.HITL_SETTLE_MS,
      signalsDir: config.AIRGATE_SIGNALS_DIR ?? null,
      actionConfirmTtlMs: config.ACTION_CONFIRM_TTL_MS,
      accessCacheMs: config.ACCESS_CACHE_MS,
      rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
      retention: config.APPROVAL_RETENTION ? { keepMs: config.APPROVAL_RETENTION, intervalMs: config.RETENTION_INTERVAL_MS } : null,
      channels: { ...channelSettings, env: process.env },
      policyChanges: config.AIRGATE_POLICY_CHANGES === 'four-eyes' ? 'four-eyes' : null,
      policiesPollMs: config.POLICIES_POLL_MS,
    },
    log,
  );
  await services.start(config.RECONCILE_INTERVAL_MS);
  // Four-eyes: an edit of the file (also one made while the bridge was down) is proposed, never put in force by itself.
  const changes = services.policyChanges;
  const proposeFile = (file: PolicyFile, proposals: PolicyChanges) =>
    proposals.proposeFile(file.current().text, file.path).then(
      (proposed) => proposed && log.info({ version: proposed.version }, 'the policies file changed: the change waits for an approval (four-eyes)'),
      (err: unknown) => log.error({ err: String(err) }, 'proposing the changed policies file failed'),
    );
  if (changes && policyFile) await proposeFile(policyFile, changes);
  policyFile?.watch(
    (result) => {
      if (result.ok && changes) return void proposeFile(policyFile, changes);
      if (result.ok) log.info({ version: result.version }, 'policies reloaded');
      else log.error({ error: result.error }, 'policies reload failed; keeping the last good policies');
      void services.trail.append(db, {
        actor: 'system',
        action: result.ok ? 'policy.reloaded' : 'policy.reload_failed',
        details: result.ok ? { version: result.version, file: policyFile.path } : { error: result.error, kept: policyFile.current().version },
      });
    },
    { interval: config.POLICIES_POLL_MS },
  );
  const server = services.app.listen(config.PORT, config.HOST, () => {
    log.info({ port: config.PORT, airflow: config.AIRFLOW_URL, policies: policies.current().source }, 'airgate bridge listening');
  });

  const shutdown = async () => {
    server.close();
    policyFile?.close();
    await services.stop();
    await db.destroy();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}

void main();
