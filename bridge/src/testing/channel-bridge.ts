import express from 'express';
import { type ApprovalEvent, ApprovalService, type PolicySource } from '../approvals/service.js';
import { type ApprovalRequest, SqlApprovalStore } from '../approvals/store.js';
import { AuditTrail } from '../audit/trail.js';
import { errorHandler, notFoundRoute } from '../http/errors.js';
import { requirePerson } from '../http/auth.js';
import { type PolicySet, parsePolicies } from '../policies/index.js';
import type { Db } from '../store/db.js';
import { AUDIT_KEY, fakeAuthentication, silentLog } from './fake-airflow.js';
import { type ChannelName, type ChannelsConfig, emptyChannelsConfig } from '../channels/config.js';
import type { Sender } from '../channels/types.js';
import { type Channels, createChannels, escalatedApprovers } from '../channels/wiring.js';

/** A clock tests move by hand. */
export class TestClock {
  constructor(public current: Date) {}
  now = (): Date => new Date(this.current);
  set(iso: string) {
    this.current = new Date(iso);
  }
  advance(ms: number) {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export const request: ApprovalRequest = {
  dag_id: 'dag_a',
  run_id: 'manual__1',
  task_id: 'approve_load',
  map_index: -1,
  try_number: 1,
  subject: 'Load the report?',
  body: 'Rows: 1200',
  options: ['Approve', 'Reject'],
  params: {},
  created_at: '2026-11-25T10:00:00.000Z',
  requester: 'requester',
  tags: [],
  values: {},
};

export interface ChannelBridgeOptions {
  policies: string;
  config?: ChannelsConfig;
  senders?: Partial<Record<ChannelName, Sender>>;
  smtpUrl?: string;
  env?: NodeJS.ProcessEnv;
  slackApiUrl?: string;
  clock?: TestClock;
  /** Null: no channel sends links (no `/a/*` routes, no Teams). */
  linkSecret?: Uint8Array | null;
}

export const PUBLIC_URL = 'http://bridge.test';
export const LINK_SECRET = new TextEncoder().encode('link-secret-for-tests-0123456789abcdef');

/** A bridge with channels over `db`: real store, audit, service, notifications, timers and deliveries; no Airflow. */
export function channelBridge(db: Db, options: ChannelBridgeOptions) {
  const clock = options.clock ?? new TestClock(new Date('2026-11-25T10:00:00Z'));
  const set: PolicySet = parsePolicies(options.policies);
  const policies: PolicySource = { current: () => set };
  const trail = new AuditTrail(db, AUDIT_KEY);
  const events: ApprovalEvent[] = [];
  // The service's listener is wired to the channels, which need the service: bound once both exist.
  let channels: Channels | null = null;
  const service = new ApprovalService({
    store: new SqlApprovalStore(db, trail),
    policies,
    escalated: escalatedApprovers(db),
    onEvent: (event) => {
      events.push(event);
      channels?.onEvent(event);
    },
    now: clock.now,
  });
  const authentication = fakeAuthentication(db);
  channels = createChannels({ db, trail, service, policies, log: silentLog, config: options.config ?? emptyChannelsConfig(), publicUrl: PUBLIC_URL, linkSecret: options.linkSecret === undefined ? LINK_SECRET : options.linkSecret, smtpUrl: options.smtpUrl, env: options.env ?? {}, ...(options.slackApiUrl ? { slackApiUrl: options.slackApiUrl } : {}), ...(options.senders ? { senders: options.senders } : {}), now: clock.now });
  const bound = channels;
  const app = express();
  // As in app.ts: signature-checked routes need their raw bodies, so they come before the JSON parser.
  app.use(bound.publicRoutes());
  app.use(express.json());
  app.use('/api/v1', bound.apiRoutes([requirePerson(authentication.authenticate)]));
  app.use(notFoundRoute);
  app.use(errorHandler(silentLog));
  /** Lets every queued listener, timer and delivery run to completion. */
  const settle = async () => {
    await bound.idle();
    await bound.timers.kick();
    await bound.deliveries.kick();
  };
  return { app, service, channels: bound, trail, db, clock, events, settle, airflowPermissions: authentication.permissions };
}
