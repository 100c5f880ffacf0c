import { ActionService } from './actions/service.js';
import { AirflowActions, AirflowClient } from './airflow/client.js';
import { createApp } from './app.js';
import { Reconciler } from './approvals/reconcile.js';
import { RegistrationVerifier } from './approvals/registration.js';
import { DeferredVotes } from './approvals/deferred/service.js';
import { ApprovalService, type PolicySource } from './approvals/service.js';
import { SqlApprovalStore } from './approvals/store.js';
import { CheckpointWorker, FileCheckpoints } from './audit/checkpoint.js';
import { AuditTrail } from './audit/trail.js';
import { loadConfig } from './config.js';
import { answersWithin, assessReadiness } from './http/readiness.js';
import { DagAccess, authenticator } from './identity/dag-access.js';
import { Sealer } from './identity/sealed.js';
import { createLogger } from './logging.js';
import { airflowTokenVerifier } from './identity/tokens.js';
import { createMetrics } from './metrics/registry.js';
import { EffectWorker } from './effects/worker.js';
import { PolicyFile } from './policies/index.js';
import { defaultPolicies } from './policies/defaults.js';
import { computeStats } from './stats/service.js';
import { createDb, migrate } from './store/db.js';
import { EFFECTS_CHANNEL, PgListener } from './store/wakeups.js';
import { loadChannelSettings } from './channels/settings.js';
import { type Channels, createChannels, escalatedApprovers } from './channels/wiring.js';

// Below a load balancer's check timeout (the scale-out profile's HAProxy waits 10 s).
const READINESS_TIMEOUT_MS = 3000;

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
  const log = createLogger(config.LOG_LEVEL);
  const db = createDb({
    databaseUrl: config.DATABASE_URL,
    sqliteFile: config.AIRGATE_DB_FILE,
    onIdleError: (err) => log.warn({ err }, 'store connection lost; reconnecting on the next query'),
  });
  await migrate(db);
  const trail = new AuditTrail(db, new TextEncoder().encode(config.AIRGATE_AUDIT_KEY), {
    checkpoints: config.AIRGATE_AUDIT_CHECKPOINT_FILE ? new FileCheckpoints(config.AIRGATE_AUDIT_CHECKPOINT_FILE) : null,
  });
  await trail.init();
  const checkpoints = new CheckpointWorker(() => trail.checkpoint(), log, config.AUDIT_CHECKPOINT_INTERVAL_MS);

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
  // People's tokens: verified locally, then Airflow itself is asked (with the token) what the person may reach.
  const access = new DagAccess((token) => new AirflowClient(config.AIRFLOW_URL, { token }), { ttlMs: config.ACCESS_CACHE_MS });
  const authenticate = authenticator(airflowTokenVerifier(config.AIRFLOW_JWT_SECRET, config.AIRFLOW_JWT_AUDIENCE), access);
  const store = new SqlApprovalStore(db, trail);
  const signalsDir = config.AIRGATE_SIGNALS_DIR ?? null;
  const effects = new EffectWorker(db, airflow, trail, log, config.EFFECTS_INTERVAL_MS, undefined, config.HITL_SETTLE_MS, signalsDir);
  const metrics = createMetrics({
    pendingApprovals: () => store.countInState('pending'),
    bypassedApprovals: () => store.countInState('bypassed'),
    effects: () => effects.depth(),
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
      void effects.kick();
      void checkpoints.kick();
    },
  });
  const deferredVotes = new DeferredVotes({
    db,
    trail,
    service,
    authenticate,
    sealer: new Sealer(new TextEncoder().encode(config.AIRGATE_AUDIT_KEY), 'deferred-vote-token'),
    log,
  });
  channels = createChannels({
    db,
    trail,
    service,
    policies,
    log,
    env: process.env,
    config: channelSettings.config,
    publicUrl: channelSettings.publicUrl,
    linkSecret: channelSettings.linkSecret,
    smtpUrl: channelSettings.smtpUrl,
    ...(channelSettings.slackApiUrl ? { slackApiUrl: channelSettings.slackApiUrl } : {}),
    timersIntervalMs: channelSettings.intervalMs,
    deliveriesIntervalMs: channelSettings.intervalMs,
  });
  channels.registerMetrics(metrics.registry);
  const actions = new ActionService({
    db,
    trail,
    approvals: store,
    airflowAs: (token) => new AirflowActions(config.AIRFLOW_URL, { token }),
    confirmTtlMs: config.ACTION_CONFIRM_TTL_MS,
  });
  const reconciler = new Reconciler(airflow, store, service, config.AIRFLOW_USERNAME, log);

  const app = createApp({
    log,
    db,
    service,
    deferredVotes,
    actions,
    trail,
    metrics,
    stats: (days, readable) => computeStats(db, days, new Date(), readable),
    authenticate,
    channels,
    serviceToken: config.AIRGATE_SERVICE_TOKEN,
    registrations: new RegistrationVerifier(airflow, config.AIRFLOW_USERNAME),
    rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
    signalsDir,
    readiness: async () => {
      const [storeOk, airflowOk, depth, deferred] = await Promise.all([
        answersWithin(() => db.selectFrom('approval').select('id').limit(1).execute(), READINESS_TIMEOUT_MS),
        answersWithin(() => airflow.health(), READINESS_TIMEOUT_MS),
        effects.depth().catch(() => null),
        deferredVotes.count().catch(() => null),
      ]);
      return assessReadiness({ store: storeOk, airflow: airflowOk }, { effects: depth, deferred_votes: deferred, policies: policies.current().version });
    },
  });

  // Another replica's decisions wake this one's effects worker on commit; alone on SQLite, the kick above does.
  const listener = config.DATABASE_URL ? new PgListener(config.DATABASE_URL, [EFFECTS_CHANNEL], () => void effects.kick(), log) : null;
  await listener?.start();
  effects.start();
  deferredVotes.start();
  channels.start();
  checkpoints.start();
  void checkpoints.kick();
  reconciler.start(config.RECONCILE_INTERVAL_MS);
  const server = app.listen(config.PORT, config.HOST, () => {
    log.info({ port: config.PORT, airflow: config.AIRFLOW_URL, policies: policies.current().source }, 'airgate bridge listening');
  });

  const shutdown = async () => {
    server.close();
    policyFile?.close();
    await listener?.close();
    await Promise.all([reconciler.stop(), effects.stop(), deferredVotes.stop(), channels.stop()]);
    await checkpoints.stop();
    await trail.checkpoint().catch((err: unknown) => log.error({ err: String(err) }, 'audit checkpoint failed'));
    await db.destroy();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}

void main();
