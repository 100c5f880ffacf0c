import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import pLimit from 'p-limit';
import { type TaskInstanceKey, tokenRefused } from '../airflow/client.js';
import { Refusal, unauthenticated } from '../refusal.js';
import type { Person, TokenVerifier } from './tokens.js';

/** What Airflow answers about the caller of one token: asked with that token, so Airflow's auth manager decides. */
export interface AirflowPermissions {
  readableDagIds(): Promise<string[]>;
  mayChangeTask(key: TaskInstanceKey): Promise<boolean>;
}

/** What one person may reach, as Airflow said moments ago. */
export interface DagScope {
  /** Airflow's role admin: the only people who see delivery addresses (they are bearer secrets). */
  readonly admin: boolean;
  /** The DAGs whose approvals, audit entries, messages and deliveries the person may read. */
  readonly readable: ReadonlySet<string>;
  mayRead(dagId: string): boolean;
  /** Whether Airflow lets the person change this task, which voting on its approval requires besides the policy. */
  mayDecide(key: TaskInstanceKey): Promise<boolean>;
}

interface Entry {
  readable: ReadonlySet<string>;
  decisions: Map<string, Promise<boolean>>;
}

const taskKey = (k: TaskInstanceKey) => JSON.stringify([k.dag_id, k.run_id, k.task_id, k.map_index]);

/** Airflow could not be asked what a person may do (down, restarting, unreachable): 503, and votes wait for it. */
export class AirflowUnavailable extends Refusal {
  constructor(message = 'Airflow did not answer what this person may read and decide; try again') {
    super('unavailable', 'unavailable', message);
  }
}

/** Maps Airflow's refusal of the token to unauthenticated (signed out: Airflow revoked it), anything else to unavailable. */
function refusal(err: unknown): Error {
  if (tokenRefused(err)) return unauthenticated('Airflow no longer accepts this token (signed out or revoked); sign in again');
  return new AirflowUnavailable();
}

/**
 * Airflow's own permissions for each token, asked with that token and cached for `ttlMs` (at most `maxTokens`).
 * The first request with a token asks Airflow, so a token Airflow revoked at logout (its `revoked_token` table,
 * auth/managers/base_auth_manager.py:142-155) is refused once its cache entry ends: within `ttlMs`.
 */
const DRY_RUNS_IN_FLIGHT = 4;

export class DagAccess {
  private readonly cache: LRUCache<string, Promise<Entry>>;
  /**
   * Dry runs in flight at once: each is a write transaction on the api-server's database pool (5 + 10 by default).
   * A full test run saw that pool exhausted, and the api-server stalled for minutes, during a burst of 18
   * concurrent votes on six tasks; the bridge asks a few at a time and the rest wait their turn here.
   */
  private readonly dryRuns = pLimit(DRY_RUNS_IN_FLIGHT);

  constructor(
    private readonly airflowAs: (token: string) => AirflowPermissions,
    options: { ttlMs?: number; maxTokens?: number; clock?: { now(): number } } = {},
  ) {
    this.cache = new LRUCache({
      max: options.maxTokens ?? 10_000,
      ttl: options.ttlMs ?? 30_000,
      // A given clock is read on every lookup (no cached "now"), so tests move time exactly.
      ...(options.clock ? { perf: options.clock, ttlResolution: 0 } : {}),
    });
  }

  async scope(token: string, person: Person): Promise<DagScope> {
    const id = createHash('sha256').update(token).digest('hex');
    let entry = this.cache.get(id);
    if (!entry) {
      entry = this.airflowAs(token)
        .readableDagIds()
        .then((ids) => ({ readable: new Set(ids), decisions: new Map<string, Promise<boolean>>() }));
      this.cache.set(id, entry);
      // A failed answer is not kept: the next request asks again.
      entry.catch(() => this.cache.delete(id));
    }
    const { readable, decisions } = await entry.catch((err: unknown) => {
      throw refusal(err);
    });
    const airflow = () => this.airflowAs(token);
    return {
      admin: person.role?.toLowerCase() === 'admin',
      readable,
      mayRead: (dagId) => readable.has(dagId),
      mayDecide: async (key) => {
        if (!readable.has(key.dag_id)) return false;
        const k = taskKey(key);
        let decision = decisions.get(k);
        if (!decision) {
          decision = this.dryRuns(() => airflow().mayChangeTask(key));
          decisions.set(k, decision);
          decision.catch(() => decisions.delete(k));
        }
        return decision.catch((err: unknown) => {
          throw refusal(err);
        });
      },
    };
  }
}

/** A verified person and what Airflow lets them reach, or why Airflow could not be asked (the token itself is valid). */
export type Authenticated = { person: Person; scope: DagScope } | { person: Person; scope: null; airflowDown: AirflowUnavailable };

/** Verifies a person's token and asks Airflow what they may reach: one call per request, cached per token. */
export type Authenticator = (token: string) => Promise<Authenticated>;

export function authenticator(verify: TokenVerifier, access: DagAccess): Authenticator {
  return async (token) => {
    // Locally first: a forged or expired token never reaches Airflow.
    const person = await verify(token);
    try {
      return { person, scope: await access.scope(token, person) };
    } catch (err) {
      if (err instanceof AirflowUnavailable) return { person, scope: null, airflowDown: err };
      throw err;
    }
  };
}
