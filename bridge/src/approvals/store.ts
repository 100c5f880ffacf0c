import { randomUUID } from 'node:crypto';
import { PostgresAdapter, type Selectable, type Transaction } from 'kysely';
import type { AuditTrail, NewAuditEntry } from '../audit/trail.js';
import { type ApprovalTable, type Database, type Db, type VoteTable, dagIdList } from '../store/db.js';
import { EFFECTS_CHANNEL, notifyOnCommit } from '../store/wakeups.js';
import { contentDigest } from './content.js';
import type { Approval, ApprovalListQuery, ApprovalState, Bypass, Claim, Outcome, ReviewOf } from './schemas.js';
import { BREAK_GLASS_CHANNEL, type Signal } from './signals.js';

/** One try of one task instance: what an approval is unique on. */
export interface TaskTryKey {
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  try_number: number;
}

/** A HITL request as Airflow shows it. */
export interface ApprovalRequest extends TaskTryKey {
  subject: string;
  body: string | null;
  options: string[];
  params: Record<string, unknown>;
  created_at: string;
  /** Who triggered the run. */
  requester: string | null;
  tags: string[];
  /** What policy conditions see: the run's conf and the form's defaults. */
  values: Record<string, unknown>;
  /** The DAG's owners. */
  owners?: string[];
  /** When Airflow's response_timeout ends the wait (ISO), if the task has one. */
  timeout_at?: string | null;
  /** Whether a sensor waits instead of a HITL task (default false), and what to publish once decided. */
  external?: boolean;
  signals?: Signal[];
  /** On a break-glass review: the bypass it reviews. */
  review_of?: ReviewOf | null;
}

/** The request with the policy it was registered under. */
export interface ApprovalRegistrationRecord extends ApprovalRequest {
  policy: string | null;
  policy_version: string;
  due_at: string | null;
  /** Why no policy may decide it, recorded with the registration (the view re-evaluates it). */
  policy_error?: string | null;
  /** Why its policy's quorum cannot be met as things stand (quorumWarnings), recorded with the registration. */
  warnings?: string[];
}

export interface StoredApproval extends Omit<Approval, 'progress' | 'policy_error' | 'option_outcomes' | 'break_glass' | 'warnings' | 'delegations'> {
  try_number: number;
  /** The policy's own deadline (what the deadline timer fires at); `due_at` is the earliest of it and `timeout_at`. */
  policy_due_at: string | null;
  owners: string[];
  tags: string[];
  values: Record<string, unknown>;
  policy_version: string | null;
  signals: Signal[];
  /** The signed decision receipt (compact JWS) once final; null while pending. */
  receipt: string | null;
}

export interface NewVote {
  user: string;
  role: string | null;
  option: string;
  reason: string | null;
  channel: string;
  params_input: Record<string, unknown> | null;
  idempotency_key: string | null;
  level: number;
  /** The digest of the content the voter saw. */
  content_digest: string;
  /** The delegator whose seat a deputy fills; null in one's own name. */
  on_behalf_of: string | null;
}

/** Something the bridge must do to Airflow; kept in the same transaction as the decision causing it. */
export interface NewEffect {
  kind: string;
  payload: unknown;
}

/** Writes on one approval, all committed together while the approval is locked. */
export interface LockedApproval {
  readonly approval: StoredApproval;
  /** Whether `user` already voted with this Idempotency-Key: asked under the lock, so two tries never both count. */
  votedWithKey(user: string, key: string): Promise<boolean>;
  /** Adds the vote; an earlier vote by the same person at the same level is marked replaced. */
  recordVote(vote: NewVote, at: string): Promise<{ replaced: boolean }>;
  update(change: {
    level?: number;
    policy?: string | null;
    policy_version?: string | null;
    due_at?: string | null;
    final?: { state: ApprovalState; outcome: Outcome | null; at: string };
    bypass?: Bypass;
    /** A reviewer's claim taken or renewed, or null to end it. */
    claim?: Claim | null;
    /** The final decision's signed receipt, committed with it. */
    receipt?: string;
  }): Promise<void>;
  /** Registers the break-glass review of this approval in the same transaction; returns the review's id. */
  openReview(review: ApprovalRegistrationRecord): Promise<string>;
  addEffects(effects: NewEffect[], at: string): Promise<void>;
  /** Records an audit entry; the transaction's entries are appended together, in order, when its work ends. */
  audit(entry: NewAuditEntry): Promise<void>;
}

export interface ApprovalStore {
  /** Idempotent on the task-instance key and try: returns the existing approval when already known. */
  register(request: ApprovalRegistrationRecord, channel: string): Promise<{ approval: StoredApproval; created: boolean }>;
  get(id: string): Promise<StoredApproval | undefined>;
  findByTaskTry(key: TaskTryKey): Promise<StoredApproval | undefined>;
  /**
   * Records Airflow's response timeout on a pending approval registered without one (the reconcile loop found
   * the task before its own push arrived: Airflow's HITL detail holds no timeout); the approval as it now is.
   */
  addTimeout(id: string, timeoutAt: string): Promise<StoredApproval | undefined>;
  /** The latest try's approval of one task instance. */
  findLatest(key: Omit<TaskTryKey, 'try_number'>): Promise<StoredApproval | undefined>;
  /** A page of approvals of the `readable` DAGs only (everything when omitted: the bridge's own loops). */
  list(query: ApprovalListQuery, readable?: ReadonlySet<string>): Promise<{ items: StoredApproval[]; next_cursor: string | null }>;
  /** How many approvals are in `state` now (for metrics). */
  countInState(state: ApprovalState): Promise<number>;
  /** The pending approvals (with a HITL task) of these tasks of one run. */
  findPendingTasks(dagId: string, runId: string, taskIds: readonly string[]): Promise<{ id: string; task_id: string }[]>;
  /**
   * Runs `work` with the approval locked against concurrent decisions (row lock on PostgreSQL; SQLite
   * serializes write transactions); everything `work` writes commits, or rolls back, together.
   */
  withLockedApproval<T>(id: string, work: (locked: LockedApproval) => Promise<T>): Promise<T | undefined>;
  /** An audit entry on its own, e.g. a registration or a refusal. */
  audit(entry: NewAuditEntry): Promise<void>;
}

const json = (value: unknown) => JSON.stringify(value);

/** The earlier of two ISO instants (either may be missing). */
const earliest = (a: string | null, b: string | null): string | null =>
  a === null ? b : b === null ? a : Date.parse(a) <= Date.parse(b) ? a : b;

function toApproval(row: Selectable<ApprovalTable>, votes: Selectable<VoteTable>[]): StoredApproval {
  const options = JSON.parse(row.options) as string[];
  const params = JSON.parse(row.params) as Record<string, unknown>;
  return {
    id: row.id,
    dag_id: row.dag_id,
    run_id: row.run_id,
    task_id: row.task_id,
    map_index: row.map_index,
    try_number: row.try_number,
    subject: row.subject,
    body: row.body,
    options,
    params,
    content_digest: contentDigest({ ...row, options, params }),
    state: row.state as ApprovalState,
    policy: row.policy,
    policy_version: row.policy_version,
    level: row.level,
    requester: row.requester,
    tags: JSON.parse(row.tags) as string[],
    values: JSON.parse(row.request_values) as Record<string, unknown>,
    votes: votes.map((v) => ({
      user: v.user,
      role: v.role,
      option: v.option,
      reason: v.reason,
      channel: v.channel,
      at: v.at,
      level: v.level,
      replaced: v.replaced === 1,
      params_input: v.params_input ? (JSON.parse(v.params_input) as Record<string, unknown>) : null,
      content_digest: v.content_digest,
      on_behalf_of: v.on_behalf_of,
    })),
    created_at: row.created_at,
    due_at: earliest(row.due_at, row.timeout_at),
    policy_due_at: row.due_at,
    timeout_at: row.timeout_at,
    owners: JSON.parse(row.owners) as string[],
    decided_at: row.decided_at,
    outcome: row.outcome ? (JSON.parse(row.outcome) as Outcome) : null,
    external: row.external === 1,
    signals: JSON.parse(row.signals) as Signal[],
    bypass: row.bypass ? (JSON.parse(row.bypass) as Bypass) : null,
    review_of: row.review_of ? (JSON.parse(row.review_of) as ReviewOf) : null,
    claim: row.claimed_by && row.claimed_until ? { by: row.claimed_by, until: row.claimed_until } : null,
    receipt: row.receipt,
  };
}

export const encodeCursor = (row: { created_at: string; id: string }) =>
  Buffer.from(`${row.created_at}|${row.id}`).toString('base64url');

function decodeCursor(cursor: string): { created_at: string; id: string } | null {
  const [created_at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  return created_at && id ? { created_at, id } : null;
}

type Executor = Db | Transaction<Database>;

async function loadApprovals(db: Executor, rows: Selectable<ApprovalTable>[]): Promise<StoredApproval[]> {
  if (rows.length === 0) return [];
  const votes = await db
    .selectFrom('vote')
    .selectAll()
    .where(
      'approval_id',
      'in',
      rows.map((r) => r.id),
    )
    .orderBy('id')
    .execute();
  const byApproval = new Map<string, Selectable<VoteTable>[]>();
  for (const vote of votes) byApproval.set(vote.approval_id, [...(byApproval.get(vote.approval_id) ?? []), vote]);
  return rows.map((row) => toApproval(row, byApproval.get(row.id) ?? []));
}

const selectTaskTry = (db: Executor, key: TaskTryKey) =>
  db
    .selectFrom('approval')
    .selectAll()
    .where('dag_id', '=', key.dag_id)
    .where('run_id', '=', key.run_id)
    .where('task_id', '=', key.task_id)
    .where('map_index', '=', key.map_index)
    .where('try_number', '=', key.try_number);

/** Inserts a request unless its task try is known (then nothing changes); audits a new one. */
async function insertApproval(tx: Transaction<Database>, trail: AuditTrail, request: ApprovalRegistrationRecord, channel: string) {
  const key = { dag_id: request.dag_id, run_id: request.run_id, task_id: request.task_id, map_index: request.map_index, try_number: request.try_number };
  const inserted = await tx
    .insertInto('approval')
    .values({
      id: randomUUID(),
      ...key,
      subject: request.subject,
      body: request.body,
      options: json(request.options),
      params: json(request.params),
      state: 'pending',
      policy: request.policy,
      policy_version: request.policy_version,
      level: 1,
      created_at: request.created_at,
      due_at: request.due_at,
      decided_at: null,
      outcome: null,
      requester: request.requester,
      tags: json(request.tags),
      request_values: json(request.values),
      external: request.external ? 1 : 0,
      signals: json(request.signals ?? []),
      owners: json(request.owners ?? []),
      timeout_at: request.timeout_at ?? null,
      bypass: null,
      review_of: request.review_of ? json(request.review_of) : null,
      claimed_by: null,
      claimed_until: null,
    })
    .onConflict((oc) => oc.columns(['dag_id', 'run_id', 'task_id', 'map_index', 'try_number']).doNothing())
    .returning('id')
    .executeTakeFirst();
  const row = await selectTaskTry(tx, key).executeTakeFirstOrThrow();
  if (inserted) {
    await trail.append(tx, {
      actor: 'system',
      action: 'approval.registered',
      channel,
      approval_id: row.id,
      details: {
        ...key,
        subject: request.subject,
        requester: request.requester,
        policy: request.policy,
        policy_version: request.policy_version,
        ...(request.policy_error ? { policy_error: request.policy_error } : {}),
        ...(request.warnings?.length ? { warnings: request.warnings } : {}),
        ...(request.external ? { external: true } : {}),
        ...(request.signals?.length ? { signals: request.signals } : {}),
        ...(request.review_of ? { review_of: request.review_of } : {}),
      },
    });
  }
  return { row, created: inserted !== undefined };
}

export class SqlApprovalStore implements ApprovalStore {
  private readonly rowLocks: boolean;

  constructor(
    private readonly db: Db,
    private readonly trail: AuditTrail,
  ) {
    this.rowLocks = db.getExecutor().adapter instanceof PostgresAdapter;
  }

  async register(request: ApprovalRegistrationRecord, channel: string) {
    return this.db.transaction().execute(async (tx) => {
      const { row, created } = await insertApproval(tx, this.trail, request, channel);
      return { approval: (await loadApprovals(tx, [row]))[0]!, created };
    });
  }

  async get(id: string) {
    const row = await this.db.selectFrom('approval').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? (await loadApprovals(this.db, [row]))[0] : undefined;
  }

  async addTimeout(id: string, timeoutAt: string) {
    await this.db.updateTable('approval').set({ timeout_at: timeoutAt }).where('id', '=', id).where('state', '=', 'pending').where('timeout_at', 'is', null).execute();
    return this.get(id);
  }

  async findByTaskTry(key: TaskTryKey) {
    const row = await selectTaskTry(this.db, key).executeTakeFirst();
    return row ? (await loadApprovals(this.db, [row]))[0] : undefined;
  }

  async findLatest(key: Omit<TaskTryKey, 'try_number'>) {
    const row = await this.db
      .selectFrom('approval')
      .selectAll()
      .where('dag_id', '=', key.dag_id)
      .where('run_id', '=', key.run_id)
      .where('task_id', '=', key.task_id)
      .where('map_index', '=', key.map_index)
      .orderBy('try_number', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? (await loadApprovals(this.db, [row]))[0] : undefined;
  }

  async list(query: ApprovalListQuery, readable?: ReadonlySet<string>) {
    let select = this.db.selectFrom('approval').selectAll();
    if (query.state !== 'all') select = select.where('state', '=', query.state);
    if (query.dag_id) select = select.where('dag_id', '=', query.dag_id);
    if (query.run_id) select = select.where('run_id', '=', query.run_id);
    if (query.task_id) select = select.where('task_id', '=', query.task_id);
    if (query.policy) select = select.where('policy', '=', query.policy);
    if (query.map_index !== undefined) select = select.where('map_index', '=', query.map_index);
    if (readable) select = select.where('dag_id', 'in', dagIdList(readable));
    const after = query.cursor ? decodeCursor(query.cursor) : null;
    if (after) {
      select = select.where((eb) =>
        eb.or([
          eb('created_at', '>', after.created_at),
          eb.and([eb('created_at', '=', after.created_at), eb('id', '>', after.id)]),
        ]),
      );
    }
    const rows = await select.orderBy('created_at').orderBy('id').limit(query.limit + 1).execute();
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: await loadApprovals(this.db, page),
      next_cursor: rows.length > query.limit && last ? encodeCursor(last) : null,
    };
  }

  async countInState(state: ApprovalState) {
    const row = await this.db.selectFrom('approval').select((eb) => eb.fn.countAll<number>().as('n')).where('state', '=', state).executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async findPendingTasks(dagId: string, runId: string, taskIds: readonly string[]) {
    if (taskIds.length === 0) return [];
    return this.db
      .selectFrom('approval')
      .select(['id', 'task_id'])
      .where('state', '=', 'pending')
      .where('external', '=', 0)
      .where('dag_id', '=', dagId)
      .where('run_id', '=', runId)
      .where('task_id', 'in', [...taskIds])
      .execute();
  }

  async withLockedApproval<T>(id: string, work: (locked: LockedApproval) => Promise<T>) {
    return this.db.transaction().execute(async (tx) => {
      let select = tx.selectFrom('approval').selectAll().where('id', '=', id);
      if (this.rowLocks) select = select.forUpdate();
      const row = await select.executeTakeFirst();
      if (!row) return undefined;
      const approval = (await loadApprovals(tx, [row]))[0]!;
      // Audited last, in one append: the chain's lock (PostgreSQL) is then held only from there to the commit.
      const audited: NewAuditEntry[] = [];
      const locked: LockedApproval = {
        approval,
        async votedWithKey(user, key) {
          const row = await tx
            .selectFrom('vote')
            .select('id')
            .where('approval_id', '=', id)
            .where('user', '=', user)
            .where('idempotency_key', '=', key)
            .executeTakeFirst();
          return row !== undefined;
        },
        async recordVote(vote, at) {
          const { params_input, ...rest } = vote;
          // The locked approval's votes say whether there is an earlier one to mark replaced: no query when not.
          const replaced = approval.votes.some((v) => v.user === vote.user && v.level === vote.level && !v.replaced);
          if (replaced) {
            await tx
              .updateTable('vote')
              .set({ replaced: 1 })
              .where('approval_id', '=', id)
              .where('user', '=', vote.user)
              .where('level', '=', vote.level)
              .where('replaced', '=', 0)
              .execute();
          }
          await tx
            .insertInto('vote')
            .values({ ...rest, approval_id: id, at, replaced: 0, params_input: params_input ? json(params_input) : null })
            .execute();
          return { replaced };
        },
        async update(change) {
          const { final, bypass, claim, ...rest } = change;
          await tx
            .updateTable('approval')
            .set({
              ...rest,
              ...(bypass ? { bypass: json(bypass) } : {}),
              ...(claim !== undefined ? { claimed_by: claim?.by ?? null, claimed_until: claim?.until ?? null } : {}),
              ...(final
                ? { state: final.state, outcome: final.outcome ? json(final.outcome) : null, decided_at: final.at }
                : {}),
            })
            .where('id', '=', id)
            .execute();
        },
        openReview: async (review) => (await insertApproval(tx, this.trail, review, BREAK_GLASS_CHANNEL)).row.id,
        async addEffects(effects, at) {
          if (effects.length === 0) return;
          await notifyOnCommit(tx, EFFECTS_CHANNEL);
          await tx
            .insertInto('effect')
            .values(
              effects.map((effect) => ({
                approval_id: id,
                kind: effect.kind,
                payload: json(effect.payload),
                state: 'pending',
                attempts: 0,
                next_attempt_at: at,
                last_error: null,
                created_at: at,
                done_at: null,
              })),
            )
            .execute();
        },
        async audit(entry) {
          audited.push({ approval_id: id, ...entry, at: entry.at ?? new Date().toISOString() });
        },
      };
      const result = await work(locked);
      await this.trail.appendAll(tx, audited);
      return result;
    });
  }

  async audit(entry: NewAuditEntry) {
    await this.trail.append(this.db, entry);
  }
}
