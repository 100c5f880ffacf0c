import { randomUUID } from 'node:crypto';
import { PostgresAdapter, type Selectable, type Transaction } from 'kysely';
import type { AuditTrail, NewAuditEntry } from '../audit/trail.js';
import type { ApprovalTable, Database, Db, VoteTable } from '../store/db.js';
import type { Approval, ApprovalListQuery, ApprovalState, Outcome } from './schemas.js';
import type { Signal } from './signals.js';

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
  /** Whether a sensor waits instead of a HITL task (default false), and what to publish once decided. */
  external?: boolean;
  signals?: Signal[];
}

/** The request with the policy it was registered under. */
export interface ApprovalRegistrationRecord extends ApprovalRequest {
  policy: string | null;
  policy_version: string;
  due_at: string | null;
}

export interface StoredApproval extends Omit<Approval, 'progress'> {
  try_number: number;
  tags: string[];
  values: Record<string, unknown>;
  policy_version: string | null;
  signals: Signal[];
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
}

/** Something the bridge must do to Airflow; kept in the same transaction as the decision causing it. */
export interface NewEffect {
  kind: string;
  payload: unknown;
  /** Earliest time to apply it (ISO); defaults to the decision's time. */
  not_before?: string;
}

/** Writes on one approval, all committed together while the approval is locked. */
export interface LockedApproval {
  readonly approval: StoredApproval;
  /** Adds the vote; an earlier vote by the same person at the same level is marked replaced. */
  recordVote(vote: NewVote, at: string): Promise<{ replaced: boolean }>;
  update(change: {
    level?: number;
    policy?: string | null;
    policy_version?: string | null;
    due_at?: string | null;
    final?: { state: ApprovalState; outcome: Outcome | null; at: string };
  }): Promise<void>;
  addEffects(effects: NewEffect[], at: string): Promise<void>;
  audit(entry: NewAuditEntry): Promise<void>;
}

export interface ApprovalStore {
  /** Idempotent on the task-instance key and try: returns the existing approval when already known. */
  register(request: ApprovalRegistrationRecord, channel: string): Promise<{ approval: StoredApproval; created: boolean }>;
  get(id: string): Promise<StoredApproval | undefined>;
  findByTaskTry(key: TaskTryKey): Promise<StoredApproval | undefined>;
  /** The latest try's approval of one task instance. */
  findLatest(key: Omit<TaskTryKey, 'try_number'>): Promise<StoredApproval | undefined>;
  list(query: ApprovalListQuery): Promise<{ items: StoredApproval[]; next_cursor: string | null }>;
  findVoteByIdempotencyKey(approvalId: string, user: string, key: string): Promise<boolean>;
  /**
   * Runs `work` with the approval locked against concurrent decisions (row lock on PostgreSQL; SQLite
   * serializes write transactions); everything `work` writes commits, or rolls back, together.
   */
  withLockedApproval<T>(id: string, work: (locked: LockedApproval) => Promise<T>): Promise<T | undefined>;
  /** An audit entry on its own, e.g. a registration or a refusal. */
  audit(entry: NewAuditEntry): Promise<void>;
}

const json = (value: unknown) => JSON.stringify(value);

function toApproval(row: Selectable<ApprovalTable>, votes: Selectable<VoteTable>[]): StoredApproval {
  return {
    id: row.id,
    dag_id: row.dag_id,
    run_id: row.run_id,
    task_id: row.task_id,
    map_index: row.map_index,
    try_number: row.try_number,
    subject: row.subject,
    body: row.body,
    options: JSON.parse(row.options) as string[],
    params: JSON.parse(row.params) as Record<string, unknown>,
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
    })),
    created_at: row.created_at,
    due_at: row.due_at,
    decided_at: row.decided_at,
    outcome: row.outcome ? (JSON.parse(row.outcome) as Outcome) : null,
    external: row.external === 1,
    signals: JSON.parse(row.signals) as Signal[],
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

export class SqlApprovalStore implements ApprovalStore {
  private readonly rowLocks: boolean;

  constructor(
    private readonly db: Db,
    private readonly trail: AuditTrail,
  ) {
    this.rowLocks = db.getExecutor().adapter instanceof PostgresAdapter;
  }

  async register(request: ApprovalRegistrationRecord, channel: string) {
    const key = {
      dag_id: request.dag_id,
      run_id: request.run_id,
      task_id: request.task_id,
      map_index: request.map_index,
      try_number: request.try_number,
    };
    return this.db.transaction().execute(async (tx) => {
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
        })
        .onConflict((oc) => oc.columns(['dag_id', 'run_id', 'task_id', 'map_index', 'try_number']).doNothing())
        .returning('id')
        .executeTakeFirst();
      const row = await selectTaskTry(tx, key).executeTakeFirstOrThrow();
      if (inserted) {
        await this.trail.append(tx, {
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
            ...(request.external ? { external: true } : {}),
            ...(request.signals?.length ? { signals: request.signals } : {}),
          },
        });
      }
      return { approval: (await loadApprovals(tx, [row]))[0]!, created: inserted !== undefined };
    });
  }

  async get(id: string) {
    const row = await this.db.selectFrom('approval').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? (await loadApprovals(this.db, [row]))[0] : undefined;
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

  async list(query: ApprovalListQuery) {
    let select = this.db.selectFrom('approval').selectAll();
    if (query.state !== 'all') select = select.where('state', '=', query.state);
    if (query.dag_id) select = select.where('dag_id', '=', query.dag_id);
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

  async findVoteByIdempotencyKey(approvalId: string, user: string, key: string) {
    const row = await this.db
      .selectFrom('vote')
      .select('id')
      .where('approval_id', '=', approvalId)
      .where('user', '=', user)
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
    return row !== undefined;
  }

  async withLockedApproval<T>(id: string, work: (locked: LockedApproval) => Promise<T>) {
    return this.db.transaction().execute(async (tx) => {
      let select = tx.selectFrom('approval').selectAll().where('id', '=', id);
      if (this.rowLocks) select = select.forUpdate();
      const row = await select.executeTakeFirst();
      if (!row) return undefined;
      const approval = (await loadApprovals(tx, [row]))[0]!;
      const trail = this.trail;
      const locked: LockedApproval = {
        approval,
        async recordVote(vote, at) {
          const { params_input, ...rest } = vote;
          const earlier = await tx
            .updateTable('vote')
            .set({ replaced: 1 })
            .where('approval_id', '=', id)
            .where('user', '=', vote.user)
            .where('level', '=', vote.level)
            .where('replaced', '=', 0)
            .executeTakeFirst();
          await tx
            .insertInto('vote')
            .values({ ...rest, approval_id: id, at, replaced: 0, params_input: params_input ? json(params_input) : null })
            .execute();
          return { replaced: earlier.numUpdatedRows > 0n };
        },
        async update(change) {
          const { final, ...rest } = change;
          await tx
            .updateTable('approval')
            .set({
              ...rest,
              ...(final
                ? { state: final.state, outcome: final.outcome ? json(final.outcome) : null, decided_at: final.at }
                : {}),
            })
            .where('id', '=', id)
            .execute();
        },
        async addEffects(effects, at) {
          for (const effect of effects) {
            await tx
              .insertInto('effect')
              .values({
                approval_id: id,
                kind: effect.kind,
                payload: json(effect.payload),
                state: 'pending',
                attempts: 0,
                next_attempt_at: effect.not_before && effect.not_before > at ? effect.not_before : at,
                last_error: null,
                created_at: at,
                done_at: null,
              })
              .execute();
          }
        },
        async audit(entry) {
          await trail.append(tx, { approval_id: id, ...entry });
        },
      };
      return work(locked);
    });
  }

  async audit(entry: NewAuditEntry) {
    await this.trail.append(this.db, entry);
  }
}
