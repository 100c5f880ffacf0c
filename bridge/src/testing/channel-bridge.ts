import type { ApprovalEvent, PolicySource } from '../approvals/service.js';
import type { ApprovalRequest } from '../approvals/store.js';
import { type ChannelName, type ChannelsConfig, emptyChannelsConfig } from '../channels/config.js';
import type { Sender } from '../channels/types.js';
import { type PolicySet, parsePolicies } from '../policies/index.js';
import { createServices } from '../services.js';
import type { Db } from '../store/db.js';
import { fakeAuthentication, silentLog } from './fake-airflow.js';
import { testConfig } from './harness.js';

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
  const events: ApprovalEvent[] = [];
  const authentication = fakeAuthentication(db);
  const bridge = createServices(
    db,
    policies,
    testConfig({
      channels: {
        config: options.config ?? emptyChannelsConfig(),
        publicUrl: PUBLIC_URL,
        linkSecret: options.linkSecret === undefined ? LINK_SECRET : options.linkSecret,
        smtpUrl: options.smtpUrl,
        slackApiUrl: options.slackApiUrl,
        env: options.env ?? {},
      },
    }),
    silentLog,
    { now: clock.now, authenticate: authentication.authenticate, onEvent: (event) => events.push(event), ...(options.senders ? { senders: options.senders } : {}) },
  );
  const channels = bridge.channels!;
  /** Lets every queued listener, timer and delivery run to completion. */
  const settle = async () => {
    await channels.idle();
    await channels.timers.kick();
    await channels.deliveries.kick();
  };
  return { app: bridge.app, service: bridge.service, channels, trail: bridge.trail, db, clock, events, settle, airflowPermissions: authentication.permissions };
}
