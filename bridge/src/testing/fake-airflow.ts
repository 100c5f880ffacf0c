import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { SignJWT } from 'jose';
import { pino } from 'pino';
import type { HitlDetail } from '../airflow/client.js';
import { createDb, migrate } from '../store/db.js';

export const AIRFLOW = 'http://airflow.test';
export const JWT_SECRET = 'test-secret-that-is-long-enough-for-hs512';
export const silentLog = pino({ level: 'silent' });

/** msw server standing in for Airflow's REST API; tests add handlers with `airflowServer.use(...)`. */
export const airflowServer = setupServer(
  http.post(`${AIRFLOW}/auth/token`, () => HttpResponse.json({ access_token: 'service-token' }, { status: 201 })),
);

export const api = (path: string) => `${AIRFLOW}/api/v2${path}`;

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
