import axios, { type AxiosError, type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import type { components as authComponents } from './auth-schema.js';
import type { components } from './schema.js';

export type HitlDetail = components['schemas']['HITLDetail'];
export type HitlAnswer = components['schemas']['UpdateHITLDetailPayload'];
export type DagRun = components['schemas']['DAGRunResponse'];
export type Dag = components['schemas']['DAGResponse'];
export type Asset = components['schemas']['AssetResponse'];
export type TaskInstance = components['schemas']['TaskInstanceResponse'];
type AssetCollection = components['schemas']['AssetCollectionResponse'];
type TaskInstanceCollection = components['schemas']['TaskInstanceCollectionResponse'];
type PatchTaskInstance = components['schemas']['PatchTaskInstanceBody'];
type ClearTaskInstances = components['schemas']['ClearTaskInstancesBody'];
type HitlDetailCollection = components['schemas']['HITLDetailCollection'];
export type EventLog = components['schemas']['EventLogResponse'];
type EventLogCollection = components['schemas']['EventLogCollectionResponse'];
type DagCollection = components['schemas']['DAGCollectionResponse'];
type TokenResponse = authComponents['schemas']['LoginResponse'];
export type Task = components['schemas']['TaskResponse'];

/** Identifies one task instance in Airflow's REST API. */
export interface TaskInstanceKey {
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
}

const seg = encodeURIComponent;
const tiPath = (k: TaskInstanceKey) =>
  `/api/v2/dags/${seg(k.dag_id)}/dagRuns/${seg(k.run_id)}/taskInstances/${seg(k.task_id)}`;

/**
 * Airflow REST API v2. As the bridge's service account (username/password): the token is fetched lazily
 * and renewed on 401. As a person (`{ token }`): their own token, so Airflow itself authorises what they do.
 */
export class AirflowClient {
  protected readonly http: AxiosInstance;
  private token: Promise<string> | null = null;

  constructor(
    baseURL: string,
    private readonly credentials: { username: string; password: string } | { token: string },
    timeoutMs = 10_000,
  ) {
    this.http = axios.create({ baseURL, timeout: timeoutMs });
    this.http.interceptors.request.use(async (config) => {
      config.headers.set('Authorization', `Bearer ${await this.currentToken()}`);
      return config;
    });
    this.http.interceptors.response.use(undefined, async (error: AxiosError) => {
      const config = error.config as (InternalAxiosRequestConfig & { renewed?: boolean }) | undefined;
      if (error.response?.status !== 401 || !config || config.renewed || 'token' in this.credentials) throw error;
      this.token = null;
      config.renewed = true;
      return this.http.request(config);
    });
  }

  private currentToken(): Promise<string> {
    if ('token' in this.credentials) return Promise.resolve(this.credentials.token);
    this.token ??= axios
      .post<TokenResponse>('/auth/token', this.credentials, { baseURL: this.http.defaults.baseURL, timeout: 10_000 })
      .then((res) => res.data.access_token)
      .catch((err: unknown) => {
        this.token = null;
        throw err;
      });
    return this.token;
  }

  async health(): Promise<boolean> {
    const res = await this.http.get<components['schemas']['HealthInfoResponse']>('/api/v2/monitor/health');
    return res.data.metadatabase.status === 'healthy';
  }

  /** Every HITL request still waiting for an answer, across all DAGs. */
  async listPendingHitl(pageSize = 100): Promise<HitlDetail[]> {
    const all: HitlDetail[] = [];
    for (let offset = 0; ; offset += pageSize) {
      const res = await this.http.get<HitlDetailCollection>('/api/v2/dags/~/dagRuns/~/hitlDetails', {
        params: { response_received: false, limit: pageSize, offset, order_by: 'created_at' },
      });
      all.push(...res.data.hitl_details);
      if (res.data.hitl_details.length < pageSize) return all;
    }
  }

  async getDagRun(dagId: string, runId: string): Promise<DagRun> {
    return (await this.http.get<DagRun>(`/api/v2/dags/${seg(dagId)}/dagRuns/${seg(runId)}`)).data;
  }

  async getDag(dagId: string): Promise<Dag> {
    return (await this.http.get<Dag>(`/api/v2/dags/${seg(dagId)}`)).data;
  }

  async getTaskInstance(key: TaskInstanceKey): Promise<TaskInstance> {
    const path = key.map_index >= 0 ? `${tiPath(key)}/${key.map_index}` : tiPath(key);
    return (await this.http.get<TaskInstance>(path)).data;
  }

  /** The task instances of one run (every task, each map index), for what waits on an external approval. */
  async runTaskInstances(dagId: string, runId: string): Promise<TaskInstance[]> {
    const path = `/api/v2/dags/${seg(dagId)}/dagRuns/${seg(runId)}/taskInstances`;
    return (await this.http.get<TaskInstanceCollection>(path, { params: { limit: 1000 } })).data.task_instances;
  }

  /** One task of the DAG's current version. */
  async getTask(dagId: string, taskId: string): Promise<Task> {
    return (await this.http.get<Task>(`/api/v2/dags/${seg(dagId)}/tasks/${seg(taskId)}`)).data;
  }

  /** The ids of the tasks directly downstream of one task in the DAG's current version. */
  async downstreamTaskIds(dagId: string, taskId: string): Promise<string[]> {
    return (await this.http.get<Task>(`/api/v2/dags/${seg(dagId)}/tasks/${seg(taskId)}`)).data.downstream_task_ids ?? [];
  }

  async getHitl(key: TaskInstanceKey): Promise<HitlDetail> {
    return (await this.http.get<HitlDetail>(`${tiPath(key)}/${key.map_index}/hitlDetails`)).data;
  }

  /**
   * When the task instance last entered `awaiting_input`, from the entry the Execution API writes to the event log in
   * the transaction that parks it; null when there is none or the log cannot be read (the caller then waits longer).
   */
  async parkedAt(key: TaskInstanceKey): Promise<{ at: string; try_number: number } | null> {
    const res = await this.http
      .get<EventLogCollection>('/api/v2/eventLogs', {
        params: { dag_id: key.dag_id, run_id: key.run_id, task_id: key.task_id, map_index: key.map_index, event: 'awaiting_input', order_by: '-when', limit: 1 },
      })
      .catch(() => null);
    const entry = res?.data.event_logs[0];
    return entry?.try_number != null ? { at: entry.when, try_number: entry.try_number } : null;
  }

  /**
   * The latest entries of Airflow's audit log (`GET /api/v2/eventLogs`) for a run, newest first, limited to `events`.
   * Airflow's REST API writes one per state-changing call, owner = the signed-in user (api_fastapi/logging/decorators.py).
   */
  async eventLogs(dagId: string, runId: string, events: readonly string[], limit = 50): Promise<EventLog[]> {
    // FastAPI reads a list as a repeated parameter, not axios's `name[]=` form.
    const params = new URLSearchParams({ dag_id: dagId, run_id: runId, order_by: '-event_log_id', limit: String(limit) });
    for (const event of events) params.append('included_events', event);
    return (await this.http.get<EventLogCollection>('/api/v2/eventLogs', { params })).data.event_logs;
  }

  async answerHitl(key: TaskInstanceKey, answer: HitlAnswer): Promise<void> {
    await this.http.patch(`${tiPath(key)}/${key.map_index}/hitlDetails`, answer);
  }

  async setTaskNote(key: TaskInstanceKey, note: string): Promise<void> {
    const path = key.map_index >= 0 ? `${tiPath(key)}/${key.map_index}` : tiPath(key);
    await this.http.patch(path, { note }, { params: { update_mask: 'note' } });
  }

  /**
   * Every DAG id the caller may read. Airflow filters its DAG list by the auth manager's
   * `get_authorized_dag_ids(method="GET")` (core_api/security.py:364-375, routes/public/dags.py:132), so with a
   * person's token this is exactly what Airflow lets them see; stale DAGs are included, their approvals stay readable.
   */
  async readableDagIds(pageSize = 100): Promise<string[]> {
    const ids: string[] = [];
    for (let offset = 0; ; offset += pageSize) {
      let res;
      try {
        res = await this.http.get<DagCollection>('/api/v2/dags', {
          params: { limit: pageSize, offset, exclude_stale: false, order_by: 'dag_id' },
        });
      } catch (err) {
        // The list itself needs read access to DAGs (dags.py:85): refused, the person may read none.
        if (statusOf(err) === 403 && !tokenRefused(err)) return [];
        throw err;
      }
      ids.push(...res.data.dags.map((d) => d.dag_id));
      if (res.data.dags.length < pageSize || ids.length >= res.data.total_entries) return ids;
    }
  }

  /**
   * Whether the caller may change this task instance: Airflow's PUT permission on its DAG, the one its own
   * `PATCH .../hitlDetails` requires (routes/public/hitl.py:146). Asked with the task's dry run, which needs PUT on
   * the DAG for task instances (routes/public/task_instances.py:1103-1118; SimpleAuthManager does not tell the two
   * apart, simple_auth_manager.py:269-283), changes nothing and writes no Airflow audit log.
   * A task Airflow no longer has (404) cannot be decided either.
   */
  async mayChangeTask(key: TaskInstanceKey): Promise<boolean> {
    const path = key.map_index >= 0 ? `${tiPath(key)}/${key.map_index}` : tiPath(key);
    try {
      await this.http.patch(`${path}/dry_run`, {});
      return true;
    } catch (err) {
      if ((statusOf(err) === 403 && !tokenRefused(err)) || statusOf(err) === 404) return false;
      throw err;
    }
  }
}

/** Task-instance and run operations, with the dry runs that tell a person what confirming will do. */
export class AirflowActions extends AirflowClient {
  /** Triggers a run; `runId` and `logicalDate` pin it (Airflow answers 409 when either is taken). */
  async triggerRun(
    dagId: string,
    conf: Record<string, unknown>,
    note: string,
    pinned: { runId?: string; logicalDate?: string } = {},
  ): Promise<DagRun> {
    const res = await this.http.post<DagRun>(`/api/v2/dags/${seg(dagId)}/dagRuns`, {
      logical_date: pinned.logicalDate ?? null,
      conf,
      note,
      ...(pinned.runId ? { dag_run_id: pinned.runId } : {}),
    });
    return res.data;
  }

  /** Sets a task instance's state (and optionally its downstream); `dryRun` lists what would change. */
  async markTask(key: TaskInstanceKey, body: PatchTaskInstance, dryRun: boolean): Promise<string[]> {
    const path = key.map_index >= 0 ? `${tiPath(key)}/${key.map_index}` : tiPath(key);
    const res = await this.http.patch<TaskInstanceCollection>(dryRun ? `${path}/dry_run` : path, body);
    return res.data.task_instances.map((ti) => ti.task_id);
  }

  /** Clears task instances (Airflow's dry_run defaults to true, so it is always sent explicitly). */
  async clearTasks(dagId: string, body: Omit<ClearTaskInstances, 'dry_run'>, dryRun: boolean): Promise<string[]> {
    const res = await this.http.post<TaskInstanceCollection>(`/api/v2/dags/${seg(dagId)}/clearTaskInstances`, {
      ...body,
      dry_run: dryRun,
    });
    return res.data.task_instances.map((ti) => ti.task_id);
  }

  async setRunState(dagId: string, runId: string, state: 'failed' | 'success' | 'queued', note: string): Promise<void> {
    await this.http.patch(`/api/v2/dags/${seg(dagId)}/dagRuns/${seg(runId)}`, { state, note });
  }

  async setPaused(dagId: string, paused: boolean): Promise<void> {
    await this.http.patch(`/api/v2/dags/${seg(dagId)}`, { is_paused: paused }, { params: { update_mask: 'is_paused' } });
  }

  async getAsset(assetId: number): Promise<Asset> {
    return (await this.http.get<Asset>(`/api/v2/assets/${assetId}`)).data;
  }

  /** The asset with exactly this URI, if Airflow knows it (uri_pattern is a substring match). */
  async findAssetByUri(uri: string): Promise<Asset | undefined> {
    const res = await this.http.get<AssetCollection>('/api/v2/assets', { params: { uri_pattern: uri, limit: 100 } });
    return res.data.assets.find((a) => a.uri === uri);
  }

  async createAssetEvent(assetId: number, extra: Record<string, unknown>): Promise<{ id: number }> {
    return (await this.http.post<{ id: number }>('/api/v2/assets/events', { asset_id: assetId, extra })).data;
  }
}

export const statusOf = (err: unknown): number | undefined =>
  axios.isAxiosError(err) ? err.response?.status : undefined;

/**
 * Why a call to Airflow failed, in Airflow's words: its status and `detail` (for a database error the driver's
 * message when `[api] expose_stacktrace` is on, e.g. "database is locked"), or why it was not reached.
 */
export function reasonOf(err: unknown): string {
  if (!axios.isAxiosError(err) || !err.response) return err instanceof Error ? err.message : String(err);
  const detail: unknown = (err.response.data as { detail?: unknown } | undefined)?.detail;
  const error = typeof detail === 'object' && detail !== null ? (detail as { orig_error?: unknown; reason?: unknown }) : {};
  const said = typeof detail === 'string' ? detail : [error.orig_error, error.reason].find((v) => typeof v === 'string' && v !== 'hidden');
  return said ? `${err.response.status}: ${String(said)}` : String(err.response.status);
}

/**
 * Whether Airflow refused the token itself rather than the request: 401 when it is missing or expired, 403
 * "Invalid JWT token" when it no longer validates, e.g. revoked at logout (core_api/security.py:121-130).
 */
export function tokenRefused(err: unknown): boolean {
  if (!axios.isAxiosError(err)) return false;
  const detail = (err.response?.data as { detail?: unknown } | undefined)?.detail;
  return err.response?.status === 401 || (err.response?.status === 403 && detail === 'Invalid JWT token');
}
