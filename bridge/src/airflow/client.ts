import axios, { type AxiosError, type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import type { components as authComponents } from './auth-schema.js';
import type { components } from './schema.js';

export type HitlDetail = components['schemas']['HITLDetail'];
export type HitlAnswer = components['schemas']['UpdateHITLDetailPayload'];
export type DagRun = components['schemas']['DAGRunResponse'];
export type Dag = components['schemas']['DAGResponse'];
export type Asset = components['schemas']['AssetResponse'];
type AssetCollection = components['schemas']['AssetCollectionResponse'];
type TaskInstanceCollection = components['schemas']['TaskInstanceCollectionResponse'];
type PatchTaskInstance = components['schemas']['PatchTaskInstanceBody'];
type ClearTaskInstances = components['schemas']['ClearTaskInstancesBody'];
type HitlDetailCollection = components['schemas']['HITLDetailCollection'];
type TokenResponse = authComponents['schemas']['LoginResponse'];

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

  async getHitl(key: TaskInstanceKey): Promise<HitlDetail> {
    return (await this.http.get<HitlDetail>(`${tiPath(key)}/${key.map_index}/hitlDetails`)).data;
  }

  async answerHitl(key: TaskInstanceKey, answer: HitlAnswer): Promise<void> {
    await this.http.patch(`${tiPath(key)}/${key.map_index}/hitlDetails`, answer);
  }

  async setTaskNote(key: TaskInstanceKey, note: string): Promise<void> {
    const path = key.map_index >= 0 ? `${tiPath(key)}/${key.map_index}` : tiPath(key);
    await this.http.patch(path, { note }, { params: { update_mask: 'note' } });
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
