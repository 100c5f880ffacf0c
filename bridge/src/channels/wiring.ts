import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ApprovalEvent, ApprovalService, PolicySource } from '../approvals/service.js';
import type { AuditTrail } from '../audit/trail.js';
import { AddressBook } from '../deliveries/addresses.js';
import { deliveryRoutes, registerDeliveryMetrics } from '../deliveries/routes.js';
import { escalationRoutes } from '../escalations/routes.js';
import { SqlEscalationStore } from '../escalations/store.js';
import type { Contract } from '../http/contract.js';
import { DeliveryWorker } from '../deliveries/worker.js';
import { Notifier } from '../notifications/notifier.js';
import { own } from '../own.js';
import type { Db } from '../store/db.js';
import { cancelTimers } from '../timers/store.js';
import { TimerWorker } from '../timers/worker.js';
import type { ChannelName, ChannelsConfig } from './config.js';
import { EmailSender } from './email/sender.js';
import { linkRoutes } from './links/routes.js';
import { LinkTokens } from './links/tokens.js';
import { slackInteractionRoutes } from './slack/interactions.js';
import { SlackSender, slackClient } from './slack/sender.js';
import { TeamsSender } from './teams/sender.js';
import { inboundHookRoutes } from './webhooks/inbound.js';
import { WebhookSender } from './webhooks/outbound.js';
import type { Sender } from './types.js';

export { escalatedApprovers } from '../escalations/store.js';

export interface ChannelsDeps {
  db: Db;
  trail: AuditTrail;
  service: ApprovalService;
  policies: PolicySource;
  log: Logger;
  config: ChannelsConfig;
  /** Where people reach this bridge (one-click links point here), e.g. https://airgate.example.com. */
  publicUrl: string;
  /** Signs one-click links (AIRGATE_LINK_SECRET); null when no channel sends them, so `/a/*` is not mounted. */
  linkSecret: Uint8Array | null;
  /** Enables email when set: smtp(s)://[user:pass@]host:port. */
  smtpUrl?: string | undefined;
  /** Where the channels file's `secret_env` names are looked up (process.env in production). */
  env: NodeJS.ProcessEnv;
  /** Slack Web API base URL; Slack's own when unset. */
  slackApiUrl?: string;
  /** Senders to use instead of the ones built from the settings above (tests). */
  senders?: Partial<Record<ChannelName, Sender>>;
  now?: () => Date;
  timersIntervalMs?: number;
  deliveriesIntervalMs?: number;
}

/**
 * Notifications, deliveries and timers for one bridge: the approval-event listener, the two workers, and the
 * routes. Several bridges may run this over one PostgreSQL store: timers and deliveries are claimed with leases.
 */
export function createChannels(deps: ChannelsDeps) {
  const { db, log } = deps;
  const now = deps.now ?? (() => new Date());
  const book = new AddressBook(deps.config);
  const tokens = deps.linkSecret ? new LinkTokens(deps.linkSecret, deps.publicUrl, now) : null;
  if (deps.smtpUrl && !tokens) throw new Error('email sends one-click links: it needs a link secret');
  const email = deps.smtpUrl && tokens ? new EmailSender(deps.smtpUrl, deps.config.email.from, tokens) : null;
  const outbound = deps.config.webhooks.outbound;
  const webhook = outbound ? new WebhookSender(own(deps.env, outbound.secret_env) ?? '', now) : null;
  const slack = deps.config.slack ? slackClient(own(deps.env, deps.config.slack.bot_token_env) ?? '', deps.slackApiUrl) : null;
  const senders: Partial<Record<ChannelName, Sender>> = {
    ...(email ? { email } : {}),
    ...(webhook ? { webhook } : {}),
    ...(slack ? { slack: new SlackSender(slack) } : {}),
    // Teams needs nothing but each person's URL and the link secret its cards' buttons are signed with.
    ...(tokens ? { teams: new TeamsSender(tokens) } : {}),
    ...deps.senders,
  };
  const notifier = new Notifier(deps.policies, book);
  const deliveries = new DeliveryWorker({
    db,
    trail: deps.trail,
    book,
    senders,
    loadApproval: (id) => deps.service.get(id).catch(() => undefined),
    log,
    maxAttempts: deps.config.delivery.max_attempts,
    backoffMs: deps.config.delivery.backoff_ms,
    intervalMs: deps.deliveriesIntervalMs,
    now,
  });
  const timers = new TimerWorker({
    db,
    trail: deps.trail,
    service: deps.service,
    policies: deps.policies,
    notifier,
    log,
    onQueued: () => void deliveries.kick(),
    intervalMs: deps.timersIntervalMs,
    now,
  });

  async function handle(event: ApprovalEvent) {
    const { approval } = event;
    if (event.kind !== 'decided') {
      await timers.schedule(approval);
      await timers.kick();
      return;
    }
    await db.transaction().execute(async (tx) => {
      // A deadline's own timer is still being fired (it reports the breach after the outcome), so it stays.
      await cancelTimers(tx, approval.id, approval.state === 'expired' ? ['deadline'] : []);
      if (approval.requester) await notifier.notify(tx, approval, 'decided', [approval.requester], now().toISOString());
    });
    await deliveries.kick();
  }

  // Listener work in flight, so stopping (and tests) can wait for it.
  const inFlight = new Set<Promise<void>>();

  return {
    notifier,
    links: tokens,
    timers,
    deliveries,
    /** ApprovalService's onEvent (call it from there); never throws, failures are logged and the sweep catches up. */
    onEvent(event: ApprovalEvent): void {
      const work = handle(event)
        .catch((err: unknown) => log.error({ err: String(err), approval: event.approval.id, event: event.kind }, 'notifying failed'))
        .finally(() => inFlight.delete(work));
      inFlight.add(work);
    },
    /** Resolves once every event received so far has been handled. */
    async idle(): Promise<void> {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    /** The people's views of messages, deliveries and escalations, and the channels' signed routes (links and Slack when configured). */
    routes(contract: Contract): void {
      deliveryRoutes(contract, db);
      escalationRoutes(contract, deps.service, new SqlEscalationStore(db));
      if (tokens) linkRoutes(contract, { db, service: deps.service, policies: deps.policies, trail: deps.trail, tokens, now });
      inboundHookRoutes(contract, { db, service: deps.service, trail: deps.trail, config: deps.config, env: deps.env, now });
      if (slack && deps.config.slack) {
        const signingSecret = own(deps.env, deps.config.slack.signing_secret_env) ?? '';
        slackInteractionRoutes(contract, { db, service: deps.service, policies: deps.policies, trail: deps.trail, config: deps.config, client: slack, signingSecret, log, now });
      }
    },
    registerMetrics(registry: Registry): void {
      registerDeliveryMetrics(registry, db);
    },
    start(): void {
      timers.start();
      deliveries.start();
    },
    async stop(): Promise<void> {
      await Promise.all([timers.stop(), deliveries.stop(), ...inFlight]);
      email?.close();
    },
  };
}
export type Channels = ReturnType<typeof createChannels>;
