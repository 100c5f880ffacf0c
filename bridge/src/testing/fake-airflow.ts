import { generateKeyPairSync } from 'node:crypto';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { AxiosError, type AxiosResponse } from 'axios';
import { SignJWT, decodeJwt } from 'jose';
import { pino } from 'pino';
import type { HitlDetail } from '../airflow/client.js';
import { type AirflowPermissions, DagAccess, authenticator } from '../identity/dag-access.js';
import { airflowTokenVerifier } from '../identity/tokens.js';
import { ReceiptKeys } from '../receipts/keys.js';
import { type Db, createDb, migrate } from '../store/db.js';

export const AIRFLOW = 'http://airflow.test';
export const JWT_SECRET = 'test-secret-that-is-long-enough-for-hs512';
export const silentLog = pino({ level: 'silent' });
/** The audit key of every test bridge (AIRGATE_AUDIT_KEY in production). */
export const AUDIT_KEY = new TextEncoder().encode('audit-key-for-tests-0123456789abcdef');
/** A receipt key in PEM, as a keys directory holds one. */
export const receiptKeyPem = () => generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
/** The receipt keys of every test bridge (AIRGATE_RECEIPT_KEYS_DIR in production). */
export const RECEIPT_KEYS = ReceiptKeys.fromFiles([{ name: 'test.pem', text: receiptKeyPem() }]);

/** msw server standing in for Airflow's REST API; tests add handlers with `airflowServer.use(...)`. */
export const api = (path: string) => `${AIRFLOW}/api/v2${path}`;

/** Airflow's event log as the effects worker reads it: the entries that record tasks parking in awaiting_input. */
export function eventLog(parks: Array<{ at: string; try_number?: number }>) {
  return http.get(api('/eventLogs'), () =>
    HttpResponse.json({
      event_logs: parks.map((p, i) => ({ event_log_id: i + 1, when: p.at, dag_id: 'dag_a', task_id: 'approve_load', run_id: 'manual__1', map_index: -1, try_number: p.try_number ?? 1, event: 'awaiting_input', logical_date: null, owner: 'airflow', extra: null })),
      total_entries: parks.length,
    }),
  );
}

export const airflowServer = setupServer(
  http.post(`${AIRFLOW}/auth/token`, () => HttpResponse.json({ access_token: 'service-token' }, { status: 201 })),
  eventLog([]),
);

export async function tokenFor(
  user: string,
  options: { secret?: string; expiresIn?: string; audience?: string; role?: string } = {},
) {
  return new SignJWT({ role: options.role ?? 'user' })
    .setProtectedHeader({ alg: 'HS512' })
    .setSubject(user)
    .setAudience(options.audience ?? 'apache-airflow')
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h')
    .sign(new TextEncoder().encode(options.secret ?? JWT_SECRET));
}

export async function memoryDb() {
  const db = createDb({ sqliteFile: ':memory:' });
  await migrate(db);
  return db;
}

export function hitlDetail(overrides: { run_id?: string; task_id?: string; try_number?: number; assigned?: string } = {}): HitlDetail {
  const run_id = overrides.run_id ?? 'manual__1';
  const task_id = overrides.task_id ?? 'approve_load';
  return {
    options: ['Approve', 'Reject'],
    subject: `Load ${run_id}?`,
    body: 'Report',
    defaults: ['Reject'],
    multiple: false,
    params: {},
    assigned_users: [{ id: overrides.assigned ?? 'airgate', name: overrides.assigned ?? 'airgate' }],
    created_at: '2026-11-25T10:00:00Z',
    responded_by_user: null,
    responded_at: null,
    chosen_options: null,
    params_input: {},
    response_received: false,
    task_instance: {
      id: `ti-${run_id}-${task_id}`,
      task_id,
      dag_id: 'dag_a',
      dag_run_id: run_id,
      map_index: -1,
      try_number: overrides.try_number ?? 1,
      state: 'awaiting_input',
    } as HitlDetail['task_instance'],
  };
}

/** One task as Airflow knows it: its run (requester, conf), its DAG's tags, and its HITL request or running try. */
export interface KnownTask {
  dag_id: string;
  run_id: string;
  task_id: string;
  try_number?: number;
  requester?: string | null;
  tags?: string[];
  /** The DAG's owners. */
  owners?: string[];
  conf?: Record<string, unknown>;
  /** The HITL request (an airgate HITL task waits); null for a task that registers an external approval. */
  hitl?: Partial<HitlDetail> | null;
  /** The task instance's state; `running` for one registering an external approval. */
  state?: string;
}

/** msw handlers answering Airflow's reads of `task` (what the bridge checks a registration against). */
export function airflowKnows(task: KnownTask) {
  const seg = encodeURIComponent;
  const ti = `/dags/${seg(task.dag_id)}/dagRuns/${seg(task.run_id)}/taskInstances/${seg(task.task_id)}`;
  const tryNumber = task.try_number ?? 1;
  const detail = task.hitl === null ? null : hitlDetail({ run_id: task.run_id, task_id: task.task_id, try_number: tryNumber });
  return [
    http.get(api(`${ti}/-1/hitlDetails`), () =>
      detail ? HttpResponse.json({ ...detail, task_instance: { ...detail.task_instance, dag_id: task.dag_id }, ...task.hitl }) : HttpResponse.json({ detail: 'not found' }, { status: 404 }),
    ),
    http.get(api(ti), () => HttpResponse.json({ dag_id: task.dag_id, dag_run_id: task.run_id, task_id: task.task_id, map_index: -1, try_number: tryNumber, state: task.state ?? (detail ? 'awaiting_input' : 'running') })),
    http.get(api(`/dags/${seg(task.dag_id)}/dagRuns/${seg(task.run_id)}`), () =>
      HttpResponse.json({ dag_id: task.dag_id, dag_run_id: task.run_id, triggering_user_name: task.requester ?? null, conf: task.conf ?? {} }),
    ),
    http.get(api(`/dags/${seg(task.dag_id)}`), () => HttpResponse.json({ dag_id: task.dag_id, owners: task.owners ?? [], tags: (task.tags ?? []).map((name) => ({ name, dag_id: task.dag_id })) })),
  ];
}

/**
 * Airflow's answers about a person's token as SimpleAuthManager gives them (every DAG readable from role viewer up,
 * changeable from role user up: simple_auth_manager.py:269-283), plus what other auth managers (FAB, multi-team)
 * express and SimpleAuthManager cannot: DAGs hidden from one user. `revoked` holds tokens signed out of Airflow.
 */
export class FakeAirflowPermissions {
  readonly hidden = new Map<string, Set<string>>();
  readonly revoked = new Set<string>();
  /** While true, Airflow does not answer at all (its api-server is down). */
  down = false;
  /** How often Airflow was asked, for tests of the cache. */
  calls = 0;

  constructor(private readonly dags: () => Promise<string[]>) {}

  hide(user: string, ...dagIds: string[]): void {
    this.hidden.set(user, new Set([...(this.hidden.get(user) ?? []), ...dagIds]));
  }

  as = (token: string): AirflowPermissions => {
    const claims = decodeJwt(token);
    const user = String(claims.sub);
    const order = ['viewer', 'user', 'op', 'admin'].indexOf(String(claims.role ?? '').toLowerCase());
    const refuseRevoked = () => {
      this.calls++;
      if (this.down) throw new AxiosError('connect ECONNREFUSED 127.0.0.1:8080', 'ECONNREFUSED');
      // As Airflow answers a revoked token (core_api/security.py:129-130).
      if (this.revoked.has(token)) {
        throw new AxiosError('Invalid JWT token', 'ERR_BAD_REQUEST', undefined, undefined, { status: 403, data: { detail: 'Invalid JWT token' } } as AxiosResponse);
      }
    };
    const readable = async () => (order < 0 ? [] : (await this.dags()).filter((d) => !this.hidden.get(user)?.has(d)));
    return {
      readableDagIds: async () => {
        refuseRevoked();
        return readable();
      },
      mayChangeTask: async (key) => {
        refuseRevoked();
        // Airflow has no task whose id breaks its KEY_REGEX (utils/helpers.py): its dry run answers 404.
        if (!/^[\w.-]+$/.test(key.task_id)) return false;
        return order >= 1 && (await readable()).includes(key.dag_id);
      },
    };
  };
}

/**
 * People's authentication as the bridge does it, against the fake Airflow: tokens from `tokenFor`, DAGs those the
 * approvals in `db` name (the DAGs this Airflow has). `clock` moves the permission cache's time.
 */
export function fakeAuthentication(db: Db) {
  const permissions = new FakeAirflowPermissions(async () =>
    (await db.selectFrom('approval').select('dag_id').distinct().execute()).map((r) => r.dag_id),
  );
  // Not 0: the cache reads a start time of 0 as "no start", which never expires.
  let now = 1_000_000;
  const clock = { now: () => now, advance: (ms: number) => void (now += ms) };
  const access = new DagAccess(permissions.as, { ttlMs: ACCESS_TTL_MS, clock });
  return { authenticate: authenticator(airflowTokenVerifier(JWT_SECRET, 'apache-airflow'), access), permissions, clock };
}
export const ACCESS_TTL_MS = 30_000;
