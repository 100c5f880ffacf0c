import { pino } from 'pino';
import { ActionService } from './actions/service.js';
import { AirflowActions } from './airflow/client.js';
import { createApp } from './app.js';
import { Reconciler } from './approvals/reconcile.js';
import { ApprovalService, type PolicySource } from './approvals/service.js';
import { SqlApprovalStore } from './approvals/store.js';
import { AuditTrail } from './audit/trail.js';
import { loadConfig } from './config.js';
import { airflowTokenVerifier } from './identity/tokens.js';
import { createMetrics } from './metrics/registry.js';
import { OutboxWorker } from './outbox/worker.js';
import { PolicyFile } from './policies/index.js';
import { defaultPolicies } from './policies/defaults.js';
import { computeStats } from './stats/service.js';
import { createDb, migrate } from './store/db.js';
import { loadChannelSettings } from './channels/settings.js';
import { type Channels, createChannels, escalatedApprovers } from './channels/wiring.js';

const fail = (message: string): never => {
  console.error(`airgate bridge: ${message}`);
  process.exit(2);
};

// Composition root: the only place that reads the environment and wires real collaborators.
async function main() {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    return fail((err as Error).message);
  }
  const log = pino({ level: config.LOG_LEVEL });
  const db = createDb({ databaseUrl: config.DATABASE_URL, sqliteFile: config.AIRGATE_DB_FILE });
  await migrate(db);
  const trail = new AuditTrail(db);

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
    const file = policyFile;
    file.watch(
      (result) => {
        if (result.ok) log.info({ version: result.version }, 'policies reloaded');
        else log.error({ error: result.error }, 'policies reload failed; keeping the last good policies');
        void trail.append(db, {
          actor: 'system',
          action: result.ok ? 'policy.reloaded' : 'policy.reload_failed',
          details: result.ok ? { version: result.version, file: file.path } : { error: result.error, kept: file.current().version },
        });
      },
      { interval: config.POLICIES_POLL_MS },
    );
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
  // The actions client, because deadline outcomes may fail a task (fail_task effects).
  const airflow = new AirflowActions(config.AIRFLOW_URL, { username: config.AIRFLOW_USERNAME, password: config.AIRFLOW_PASSWORD });
  const verifyToken = airflowTokenVerifier(config.AIRFLOW_JWT_SECRET, config.AIRFLOW_JWT_AUDIENCE);
  const store = new SqlApprovalStore(db, trail);
  const signalsDir = config.AIRGATE_SIGNALS_DIR ?? null;
  const outbox = new OutboxWorker(db, airflow, trail, log, config.OUTBOX_INTERVAL_MS, undefined, config.HITL_SETTLE_MS, signalsDir);
  const metrics = createMetrics({
    pendingApprovals: async () =>
      Number((await db.selectFrom('approval').select((eb) => eb.fn.countAll<number>().as('n')).where('state', '=', 'pending').executeTakeFirst())?.n ?? 0),
    outbox: () => outbox.depth(),
  });
  // Assigned right below: the service announces events to channels, which decide through the service.
  let channels: Channels | undefined;
  const service = new ApprovalService({
    store,
    policies,
    escalated: escalatedApprovers(db),
    onEvent: (event) => {
      channels?.onEvent(event);
      if (event.kind !== 'decided') return;
      metrics.decisions.inc({ state: event.approval.state });
      void outbox.kick();
    },
    hitlSettleMs: config.HITL_SETTLE_MS,
  });
  channels = createChannels({
    db,
    trail,
    service,
    policies,
    log,
    verifyToken,
    env: process.env,
    config: channelSettings.config,
    publicUrl: channelSettings.publicUrl,
    linkSecret: channelSettings.linkSecret,
    smtpUrl: channelSettings.smtpUrl,
    timersIntervalMs: channelSettings.intervalMs,
    deliveriesIntervalMs: channelSettings.intervalMs,
  });
  channels.registerMetrics(metrics.registry);
  const actions = new ActionService({
    db,
    trail,
    airflowAs: (token) => new AirflowActions(config.AIRFLOW_URL, { token }),
    confirmTtlMs: config.ACTION_CONFIRM_TTL_MS,
  });
  const reconciler = new Reconciler(airflow, store, service, config.AIRFLOW_USERNAME, log);

  const app = createApp({
    log,
    service,
    actions,
    trail,
    metrics,
    stats: (days) => computeStats(db, days, new Date()),
    verifyToken,
    channels,
    serviceToken: config.AIRGATE_SERVICE_TOKEN,
    rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
    signalsDir,
    readiness: async () => {
      const [storeOk, airflowOk, depth] = await Promise.all([
        db.selectFrom('approval').select('id').limit(1).execute().then(() => true, () => false),
        airflow.health().catch(() => false),
        outbox.depth().catch(() => null),
      ]);
      return {
        ok: storeOk && airflowOk,
        details: { store: storeOk, airflow: airflowOk, outbox: depth, policies: policies.current().version },
      };
    },
  });

  outbox.start();
  channels.start();
  reconciler.start(config.RECONCILE_INTERVAL_MS);
  const server = app.listen(config.PORT, config.HOST, () => {
    log.info({ port: config.PORT, airflow: config.AIRFLOW_URL, policies: policies.current().source }, 'airgate bridge listening');
  });

  const shutdown = async () => {
    server.close();
    policyFile?.close();
    await Promise.all([reconciler.stop(), outbox.stop(), channels.stop()]);
    await db.destroy();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}

void main();
