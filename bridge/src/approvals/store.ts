import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { ApprovalTable, Db, VoteTable } from '../store/db.js';
import type { Approval, ApprovalListQuery, ApprovalState, Outcome } from './schemas.js';

/** A HITL request as Airflow shows it; identifies one try of one task instance. */
export interface ApprovalRequest {
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  try_number: number;
  subject: string;
  body: string | null;
  options: string[];
  params: Record<string, unknown>;
  created_at: string;
  due_at: string | null;
}

export interface StoredApproval extends Approval {
  try_number: number;
}

export interface NewVote {
  user: string;
  option: string;
  reason: string | null;
  channel: string;
  params_input: Record<string, unknown> | null;
  idempotency_key: string | null;
}

/** Something the bridge must do to Airflow; kept in the same transaction as the decision causing it. */
export interface NewEffect {
  kind: string;
  payload: unknown;
  /** Earliest time to apply it (ISO); defaults to the decision's time. */
  not_before?: string;
}

export interface Decision {
  approvalId: string;
  vote: NewVote;
  /** Set when this vote makes the outcome final. */
  final: { state: ApprovalState; outcome: Outcome } | null;
  effects: NewEffect[];
}

export interface ApprovalStore {
  /** Idempotent on the task-instance key and try: returns the existing approval when already known. */
  register(request: ApprovalRequest): Promise<{ approval: StoredApproval; created: boolean }>;
  get(id: string): Promise<StoredApproval | undefined>;
  list(query: ApprovalListQuery & { user?: string }): Promise<{ items: StoredApproval[]; next_cursor: string | null }>;
  findVoteByIdempotencyKey(approvalId: string, user: string, key: string): Promise<boolean>;
  /** Records the vote (and the outcome and effects when final); false when the approval was no longer pending. */
  decide(decision: Decision, at: string): Promise<boolean>;
  /** Closes an approval that Airflow resolved without the bridge (timeout default, cleared task, ...). */
  close(id: string, state: ApprovalState, outcome: Outcome | null, at: string): Promise<boolean>;
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
    level: row.level,
    votes: votes.map((v) => ({ user: v.user, option: v.option, reason: v.reason, channel: v.channel, at: v.at })),
    created_at: row.created_at,
    due_at: row.due_at,
    decided_at: row.decided_at,
    outcome: row.outcome ? (JSON.parse(row.outcome) as Outcome) : null,
  };
}

const encodeCursor = (row: { created_at: string; id: string }) =>
  Buffer.from(`${row.created_at}|${row.id}`).toString('base64url');

function decodeCursor(cursor: string): { created_at: string; id: string } | null {
  const [created_at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  return created_at && id ? { created_at, id } : null;
}

export class SqlApprovalStore implements ApprovalStore {
  constructor(private readonly db: Db) {}

  async register(request: ApprovalRequest) {
    const key = {
      dag_id: request.dag_id,
      run_id: request.run_id,
      task_id: request.task_id,
      map_index: request.map_index,
      try_number: request.try_number,
    };
    const inserted = await this.db
      .insertInto('approval')
      .values({
        id: randomUUID(),
        ...key,
        subject: request.subject,
        body: request.body,
        options: json(request.options),
        params: json(request.params),
        state: 'pending',
        policy: null,
        level: 1,
        created_at: request.created_at,
        due_at: request.due_at,
        decided_at: null,
        outcome: null,
      })
      .onConflict((oc) => oc.columns(['dag_id', 'run_id', 'task_id', 'map_index', 'try_number']).doNothing())
      .returning('id')
      .executeTakeFirst();
    const row = await this.db
      .selectFrom('approval')
      .selectAll()
      .where('dag_id', '=', key.dag_id)
      .where('run_id', '=', key.run_id)
      .where('task_id', '=', key.task_id)
      .where('map_index', '=', key.map_index)
      .where('try_number', '=', key.try_number)
      .executeTakeFirstOrThrow();
    return { approval: (await this.withVotes([row]))[0]!, created: inserted !== undefined };
  }

  async get(id: string) {
    const row = await this.db.selectFrom('approval').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? (await this.withVotes([row]))[0] : undefined;
  }

  async list(query: ApprovalListQuery & { user?: string }) {
    let select = this.db.selectFrom('approval').selectAll();
    if (query.state !== 'all') select = select.where('state', '=', query.state);
    if (query.dag_id) select = select.where('dag_id', '=', query.dag_id);
    if (query.mine && query.user) {
      const user = query.user;
      select = select.where((eb) =>
        eb.exists(eb.selectFrom('vote').select('vote.id').whereRef('vote.approval_id', '=', 'approval.id').where('vote.user', '=', user)),
      );
    }
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
      items: await this.withVotes(page),
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

  async decide(decision: Decision, at: string) {
    return this.db.transaction().execute(async (tx) => {
      if (decision.final) {
        // The state guard makes concurrent final votes race safely: only one update matches.
        const updated = await tx
          .updateTable('approval')
          .set({ state: decision.final.state, outcome: json(decision.final.outcome), decided_at: at })
          .where('id', '=', decision.approvalId)
          .where('state', '=', 'pending')
          .executeTakeFirst();
        if (updated.numUpdatedRows === 0n) return false;
      } else {
        const row = await tx.selectFrom('approval').select('state').where('id', '=', decision.approvalId).executeTakeFirst();
        if (row?.state !== 'pending') return false;
      }
      const { params_input, ...vote } = decision.vote;
      await tx
        .insertInto('vote')
        .values({ ...vote, approval_id: decision.approvalId, at, params_input: params_input ? json(params_input) : null })
        .execute();
      for (const effect of decision.effects) {
        await tx
          .insertInto('effect')
          .values({
            approval_id: decision.approvalId,
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
      return true;
    });
  }

  async close(id: string, state: ApprovalState, outcome: Outcome | null, at: string) {
    const updated = await this.db
      .updateTable('approval')
      .set({ state, outcome: outcome ? json(outcome) : null, decided_at: at })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return updated.numUpdatedRows > 0n;
  }

  private async withVotes(rows: Selectable<ApprovalTable>[]): Promise<StoredApproval[]> {
    if (rows.length === 0) return [];
    const votes = await this.db
      .selectFrom('vote')
      .selectAll()
      .where(
        'approval_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('id')
      .execute();
    return rows.map((row) => toApproval(row, votes.filter((v) => v.approval_id === row.id)));
  }
}
