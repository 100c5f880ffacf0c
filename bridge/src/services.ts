import type { Logger } from 'pino';
import { ActionService } from './actions/service.js';
import { SqlActionConfirmationStore } from './actions/store.js';
import { AirflowActions, AirflowClient } from './airflow/client.js';
import { createApp } from './app.js';
import { DeferredVotes } from './approvals/deferred/service.js';
import { Reconciler } from './approvals/reconcile.js';
import { RegistrationVerifier } from './approvals/registration.js';
import { type ApprovalEvent, ApprovalService, type PolicySource } from './approvals/service.js';
import { SqlApprovalStore } from './approvals/store.js';
import { CheckpointWorker, FileCheckpoints } from './audit/checkpoint.js';
import { AuditTrail } from './audit/trail.js';
import type { ChannelName, ChannelsConfig } from './channels/config.js';
import type { Sender } from './channels/types.js';
import { type Channels, createChannels, escalatedApprovers } from './channels/wiring.js';
import { DelegationService } from './delegations/service.js';
import { SqlDelegationStore } from './delegations/store.js';
import { EffectWorker } from './effects/worker.js';
import type { ReceiptKeys } from './receipts/keys.js';
import { Receipts } from './receipts/receipt.js';
import { SqlRetentionStore } from './retention/store.js';
import { type RetentionSettings, RetentionWorker } from './retention/worker.js';
import { type Readiness, answersWithin, assessReadiness } from './http/readiness.js';
import { type Authenticator, DagAccess, authenticator } from './identity/dag-access.js';
import { Sealer } from './identity/sealed.js';
import { airflowTokenVerifier } from './identity/tokens.js';
import { createMetrics } from './metrics/registry.js';
import { QueueService } from './queue/service.js';
import { PolicyChanges } from './policies/changes/service.js';
import { SqlPolicyVersionStore } from './policies/changes/store.js';
import { computeStats } from './stats/service.js';
import { type Db, ping } from './store/db.js';
import { EFFECTS_CHANNEL, PgListener } from './store/wakeups.js';
import { AddressBook } from './deliveries/addresses.js';
import { PolicyDryRuns } from './policies/dry-run.js';

// Below a load balancer's check timeout (the scale-out profile's HAProxy waits 10 s).
const READINESS_TIMEOUT_MS = 3000;

/** The bridge's settings as values (main.ts reads them from the environment; tests and benchmarks give them). */
export interface ServicesConfig {
  airflowUrl: string;
  /** The bridge's own Airflow account: the HITL respondent, and who reads Airflow for reconcile and checks. */
  airflowUsername: string;
  airflowPassword: string;
  /** People's Airflow tokens are verified with these ([api_auth] jwt_secret, the JWT audience). */
  jwtSecret: string;
  jwtAudience: string;
  serviceToken: string;
  auditKey: Uint8Array;
  /** The keys decisions' receipts are signed with (the newest) and verified with (all). */
  receiptKeys: ReceiptKeys;
  /** Who receipts name as their issuer: the bridge's public URL. */
  receiptIssuer: string;
  /** Where the audit chain's head is checkpointed outside the store; none: no checkpoints. */
  auditCheckpointFile?: string | null;
  auditCheckpointIntervalMs?: number;
  /** Another replica's decisions wake this one's effects through LISTEN/NOTIFY here (PostgreSQL only). */
  databaseUrl?: string | null;
  effectsIntervalMs?: number;
  hitlSettleMs?: number;
  signalsDir?: string | null;
  actionConfirmTtlMs?: number;
  accessCacheMs?: number;
  rateLimitPerMinute?: number;
  /**
   * `four-eyes`: the policies in force are the versions approved in the store (the given source is only the first
   * one, adopted on a new store); null: the given source decides alone.
   */
  policyChanges?: 'four-eyes' | null;
  /** How often a four-eyes bridge re-reads the version in force (another replica may have approved one). */
  policiesPollMs?: number;
  /** Removes decided approvals' working state after `keepMs`; null keeps it for ever. */
  retention?: RetentionSettings | null;
  /** Notifications, timers and deliveries; none: a bridge without channels. */
  channels?: ChannelsSettings | null;
}

export interface ChannelsSettings {
  config: ChannelsConfig;
  publicUrl: string;
  linkSecret: Uint8Array | null;
  smtpUrl?: string | undefined;
  slackApiUrl?: string | undefined;
  intervalMs?: number;
  /** Where the channels file's `secret_env` names are looked up. */
  env: NodeJS.ProcessEnv;
}

/** What tests and benchmarks put in place of the real thing. */
export interface ServicesOverrides {
  log?: Logger;
  now?: () => Date;
  /** How people's tokens are checked (a fake Airflow's answers in tests). */
  authenticate?: Authenticator;
  /** Senders used instead of the channels' real ones. */
  senders?: Partial<Record<ChannelName, Sender>>;
  readiness?: () => Promise<Readiness>;
  /** Told of every approval event after the bridge's own listeners. */
  onEvent?: (event: ApprovalEvent) => void;
}

/**
 * The composition root: every service of one bridge, wired once, over `db` and `policies`. main.ts, the
 * benchmarks and the tests all build the bridge here; only main.ts reads the environment.
 */
export function createServices(db: Db, given: PolicySource, config: ServicesConfig, log: Logger, overrides: Omit<ServicesOverrides, 'log'> = {}) {
  const now = overrides.now ?? (() => new Date());
  const trail = new AuditTrail(db, config.auditKey, {
    checkpoints: config.auditCheckpointFile ? new FileCheckpoints(config.auditCheckpointFile) : null,
  });
  const policyChanges = config.policyChanges === 'four-eyes' ? new PolicyChanges(new SqlPolicyVersionStore(db, trail), { now }) : null;
  const policies: PolicySource = policyChanges ?? given;
  let policiesRefresh: NodeJS.Timeout | null = null;
  const checkpoints = new CheckpointWorker(() => trail.checkpoint(), log, config.auditCheckpointIntervalMs);
  // The actions client, because deadline outcomes may fail a task (fail_task effects).
  const airflow = new AirflowActions(config.airflowUrl, { username: config.airflowUsername, password: config.airflowPassword });
  // People's tokens: verified locally, then Airflow itself is asked (with the token) what the person may reach.
  const authenticate =
    overrides.authenticate ??
    authenticator(
      airflowTokenVerifier(config.jwtSecret, config.jwtAudience),
      new DagAccess((token) => new AirflowClient(config.airflowUrl, { token }), { ttlMs: config.accessCacheMs }),
    );
  const store = new SqlApprovalStore(db, trail);
  const receipts = new Receipts(config.receiptKeys, config.receiptIssuer);
  const signalsDir = config.signalsDir ?? null;
  const effects = new EffectWorker(db, airflow, trail, log, config.effectsIntervalMs, undefined, config.hitlSettleMs, signalsDir);
  const metrics = createMetrics({
    pendingApprovals: () => store.countInState('pending'),
    bypassedApprovals: () => store.countInState('bypassed'),
    effects: () => effects.depth(),
  });
  // Workers wake on a decision only while the bridge runs; a bridge built and not started applies nothing.
  let started = false;
  // Assigned right below: the service announces events to channels, which decide through the service.
  let channels: Channels | null = null;
  const escalated = escalatedApprovers(db);
  const delegations = new DelegationService({ store: new SqlDelegationStore(db, trail), policies, now });
  const service = new ApprovalService({
    store,
    policies,
    escalated,
    delegations: (at) => delegations.current(at),
    onEvent: (event) => {
      channels?.onEvent(event);
      if (event.kind === 'decided') {
        metrics.decisions.inc({ state: event.approval.state });
        if (started) {
          void effects.kick();
          void checkpoints.kick();
        }
      }
      overrides.onEvent?.(event);
    },
    receipts,
    now,
  });
  const deferredVotes = new DeferredVotes({
    db,
    trail,
    service,
    authenticate,
    sealer: new Sealer(config.auditKey, 'deferred-vote-token'),
    log,
    now,
  });
  const settings = config.channels;
  channels = settings
    ? createChannels({
        db,
        trail,
        service,
        policies,
        log,
        env: settings.env,
        config: settings.config,
        publicUrl: settings.publicUrl,
        linkSecret: settings.linkSecret,
        smtpUrl: settings.smtpUrl,
        ...(settings.slackApiUrl ? { slackApiUrl: settings.slackApiUrl } : {}),
        ...(overrides.senders ? { senders: overrides.senders } : {}),
        timersIntervalMs: settings.intervalMs,
        deliveriesIntervalMs: settings.intervalMs,
        now,
      })
    : null;
  channels?.registerMetrics(metrics.registry);
  const actions = new ActionService({
    confirmations: new SqlActionConfirmationStore(db, trail),
    approvals: store,
    airflowAs: (token) => new AirflowActions(config.airflowUrl, { token }),
    confirmTtlMs: config.actionConfirmTtlMs,
    now,
  });
  const queue = new QueueService({ store, approvals: service, escalated, now });
  const reconciler = new Reconciler(airflow, store, service, config.airflowUsername, log);
  const retention = config.retention ? new RetentionWorker(new SqlRetentionStore(db, trail), config.retention, metrics.purged, log, now) : null;
  const readiness =
    overrides.readiness ??
    (async () => {
      const [storeOk, airflowOk, depth, deferred] = await Promise.all([
        answersWithin(() => ping(db), READINESS_TIMEOUT_MS),
        answersWithin(() => airflow.health(), READINESS_TIMEOUT_MS),
        effects.depth().catch(() => null),
        deferredVotes.count().catch(() => null),
      ]);
      return assessReadiness({ store: storeOk, airflow: airflowOk }, { effects: depth, deferred_votes: deferred, policies: policies.current().version });
    });
  const { app, openapi } = createApp({
    log,
    db,
    service,
    deferredVotes,
    actions,
    queue,
    delegations,
    now,
    trail,
    metrics,
    stats: (days, readable) => computeStats(db, days, now(), readable),
    authenticate,
    ...(channels ? { channels } : {}),
    serviceToken: config.serviceToken,
    registrations: new RegistrationVerifier(airflow, config.airflowUsername),
    policyDryRuns: new PolicyDryRuns(policies, settings ? new AddressBook(settings.config) : null, (token) => new AirflowClient(config.airflowUrl, { token }), now),
    rateLimitPerMinute: config.rateLimitPerMinute,
    signalsDir,
    readiness,
    policyChanges,
    receipts,
  });
  // Another replica's decisions wake this one's effects worker on commit; alone on SQLite, the kick above does.
  const listener = config.databaseUrl ? new PgListener(config.databaseUrl, [EFFECTS_CHANNEL], () => void effects.kick(), log) : null;

  return {
    app,
    /** The contract of the routes this bridge mounts, as it serves it at /api/v1/openapi.json. */
    openapi,
    service,
    store,
    trail,
    delegations,
    deferredVotes,
    actions,
    channels,
    effects,
    reconciler,
    retention,
    metrics,
    receipts,
    /** Starts the workers and loops (reconcile every `reconcileIntervalMs`). */
    policyChanges,
    async start(reconcileIntervalMs: number): Promise<void> {
      await trail.init();
      if (policyChanges) {
        const first = given.current();
        await policyChanges.start({ text: first.text, source: first.source });
        policiesRefresh = setInterval(() => {
          policyChanges.refresh().catch((err: unknown) => log.warn({ err: String(err) }, 'reading the policy version in force failed; keeping the last one read'));
        }, config.policiesPollMs ?? 2000);
        policiesRefresh.unref();
      }
      await listener?.start();
      started = true;
      effects.start();
      deferredVotes.start();
      channels?.start();
      checkpoints.start();
      void checkpoints.kick();
      retention?.start();
      reconciler.start(reconcileIntervalMs);
    },
    /** Stops every worker, waits for their last pass, and checkpoints the audit chain's head once more. */
    async stop(): Promise<void> {
      started = false;
      if (policiesRefresh) clearInterval(policiesRefresh);
      await listener?.close();
      await Promise.all([reconciler.stop(), effects.stop(), deferredVotes.stop(), channels?.stop(), retention?.stop()]);
      await checkpoints.stop();
      await trail.checkpoint().catch((err: unknown) => log.error({ err: String(err) }, 'audit checkpoint failed'));
    },
  };
}
export type Services = ReturnType<typeof createServices>;
