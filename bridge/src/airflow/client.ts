import axios, { type AxiosError, type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import type { components as authComponents } from './auth-schema.js';
import type { components } from './schema.js';

export type HitlDetail = components['schemas']['HITLDetail'];
export type HitlAnswer = components['schemas']['UpdateHITLDetailPayload'];
export type DagRun = components['schemas']['DAGRunResponse'];
export type Dag = components['schemas']['DAGResponse'];
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

/** Airflow REST API v2 as the bridge's service account; the token is fetched lazily and renewed on 401. */
export class AirflowClient {
  private readonly http: AxiosInstance;
  private token: Promise<string> | null = null;

  constructor(
    baseURL: string,
    private readonly credentials: { username: string; password: string },
    timeoutMs = 10_000,
  ) {
    this.http = axios.create({ baseURL, timeout: timeoutMs });
    this.http.interceptors.request.use(async (config) => {
      config.headers.set('Authorization', `Bearer ${await this.currentToken()}`);
      return config;
    });
    this.http.interceptors.response.use(undefined, async (error: AxiosError) => {
      const config = error.config as (InternalAxiosRequestConfig & { renewed?: boolean }) | undefined;
      if (error.response?.status !== 401 || !config || config.renewed) throw error;
      this.token = null;
      config.renewed = true;
      return this.http.request(config);
    });
  }

  private currentToken(): Promise<string> {
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

export const statusOf = (err: unknown): number | undefined =>
  axios.isAxiosError(err) ? err.response?.status : undefined;
