import type { Logger } from 'pino';
import { ActionService } from '../actions/service.js';
import { AirflowActions } from '../airflow/client.js';
import { createApp } from '../app.js';
import { DeferredVotes } from '../approvals/deferred/service.js';
import { RegistrationVerifier } from '../approvals/registration.js';
import { type ApprovalEvent, ApprovalService, type PolicySource } from '../approvals/service.js';
import { type ApprovalRequest, SqlApprovalStore } from '../approvals/store.js';
import { AuditTrail } from '../audit/trail.js';
import { Sealer } from '../identity/sealed.js';
import { createMetrics } from '../metrics/registry.js';
import { type PolicySet, parsePolicies } from '../policies/index.js';
import { computeStats } from '../stats/service.js';
import type { Db } from '../store/db.js';
import { AIRFLOW, AUDIT_KEY, fakeAuthentication, silentLog } from './fake-airflow.js';

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
  const trail = new AuditTrail(db, AUDIT_KEY);
  const store = new SqlApprovalStore(db, trail);
  const decided: string[] = [];
  const metrics = createMetrics({
    pendingApprovals: () => store.countInState('pending'),
    bypassedApprovals: () => store.countInState('bypassed'),
    effects: async () => ({ pending: 0, failed: 0 }),
  });
  const events: ApprovalEvent[] = [];
  const service = new ApprovalService({
    store,
    policies,
    onEvent: (event) => {
      events.push(event);
      if (event.kind === 'decided') decided.push(event.approval.state);
    },
    now,
  });
  const actions = new ActionService({ db, trail, approvals: store, airflowAs: (token) => new AirflowActions(AIRFLOW, { token }), now, confirmTtlMs: 60_000 });
  const authentication = fakeAuthentication(db);
  const deferredVotes = new DeferredVotes({ db, trail, service, authenticate: authentication.authenticate, sealer: new Sealer(AUDIT_KEY, 'deferred-vote-token'), log, now });
  const app = createApp({
    log,
    db,
    service,
    deferredVotes,
    actions,
    trail,
    metrics,
    stats: (days, readable) => computeStats(db, days, now(), readable),
    authenticate: authentication.authenticate,
    serviceToken: SERVICE_TOKEN,
    registrations: new RegistrationVerifier(new AirflowActions(AIRFLOW, { username: 'airgate', password: 'pw' }), 'airgate'),
    rateLimitPerMinute,
    signalsDir,
    readiness: async () => ({ ok: true, status: 'ready' as const, details: {} }),
  });
  return {
    app,
    service,
    deferredVotes,
    store,
    trail,
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
