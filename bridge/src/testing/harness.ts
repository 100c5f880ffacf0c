import type { Logger } from 'pino';
import type { ApprovalEvent, PolicySource } from '../approvals/service.js';
import type { ApprovalRequest } from '../approvals/store.js';
import { type PolicySet, parsePolicies } from '../policies/index.js';
import { type ServicesConfig, createServices } from '../services.js';
import type { Db } from '../store/db.js';
import { AIRFLOW, AUDIT_KEY, JWT_SECRET, RECEIPT_KEYS, fakeAuthentication, silentLog } from './fake-airflow.js';

export const SERVICE_TOKEN = 'service-token-for-tests-0123456789';

export const request1: ApprovalRequest = {
  dag_id: 'dag_a',
  run_id: 'manual__1',
  task_id: 'approve_load',
  map_index: -1,
  try_number: 1,
  subject: 'Load?',
  body: 'Report',
  options: ['Approve', 'Reject'],
  params: {},
  created_at: '2026-11-25T10:00:00.000Z',
  requester: 'requester',
  tags: ['finance'],
  values: {},
};

/** Policies whose `policies` list is given; groups and managers shared by the bridge's tests. */
export const policiesWith = (policies: string) => `version: 1
groups:
  stewards: [alice, bob, carol, dave, erin]
  level1: [alice]
  level2: [bob]
managers:
  requester: carol
policies:
${policies}`;

export const ANYONE_ELSE = `  - name: anyone-else
    levels:
      - { name: approver, approvers: [role:user, role:admin], rule: any }
`;

/** The settings of a test bridge: the fake Airflow's URL and secrets (channels are added by channelBridge). */
export const testConfig = (overrides: Partial<ServicesConfig> = {}): ServicesConfig => ({
  airflowUrl: AIRFLOW,
  airflowUsername: 'airgate',
  airflowPassword: 'pw',
  jwtSecret: JWT_SECRET,
  jwtAudience: 'apache-airflow',
  serviceToken: SERVICE_TOKEN,
  auditKey: AUDIT_KEY,
  receiptKeys: RECEIPT_KEYS,
  receiptIssuer: 'http://bridge.test',
  actionConfirmTtlMs: 60_000,
  ...overrides,
});

/** The whole bridge but Airflow and the clock: real store, audit, service, routes, over `db`. */
export function buildBridge(
  db: Db,
  policiesText = policiesWith(ANYONE_ELSE),
  now = () => new Date('2026-11-25T11:00:00Z'),
  signalsDir: string | null = null,
  rateLimitPerMinute?: number,
  log: Logger = silentLog,
) {
  let set: PolicySet = parsePolicies(policiesText);
  const policies: PolicySource = { current: () => set };
  const decided: string[] = [];
  const events: ApprovalEvent[] = [];
  const authentication = fakeAuthentication(db);
  const bridge = createServices(db, policies, testConfig({ signalsDir, ...(rateLimitPerMinute ? { rateLimitPerMinute } : {}) }), log, {
    now,
    authenticate: authentication.authenticate,
    readiness: async () => ({ ok: true, status: 'ready' as const, details: {} }),
    onEvent: (event) => {
      events.push(event);
      if (event.kind === 'decided') decided.push(event.approval.state);
    },
  });
  return {
    app: bridge.app,
    service: bridge.service,
    deferredVotes: bridge.deferredVotes,
    store: bridge.store,
    trail: bridge.trail,
    decided,
    events,
    /** The fake Airflow's answers about people's tokens: hide DAGs from a user, revoke a token. */
    airflowPermissions: authentication.permissions,
    accessClock: authentication.clock,
    setPolicies: (text: string) => {
      set = parsePolicies(text);
    },
  };
}
