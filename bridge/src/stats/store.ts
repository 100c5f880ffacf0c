import type { ExpressionBuilder, Selectable } from 'kysely';
import { type ApprovalTable, type Database, type Db, dagIdList } from '../store/db.js';

/** What the figures need of one approval in the window. */
export type WindowApproval = Pick<Selectable<ApprovalTable>, 'id' | 'dag_id' | 'run_id' | 'task_id' | 'state' | 'created_at' | 'decided_at' | 'due_at'>;

export interface DagCount {
  dag_id: string;
  n: number;
}

/** What the dashboard reads, always of the `readable` DAGs only; the window starts at `since` (ISO). */
export interface StatsStore {
  /** Pending approvals, whenever created. */
  countPending(readable: ReadonlySet<string>): Promise<number>;
  /** Approvals created in the window. */
  approvalsSince(since: string, readable: ReadonlySet<string>): Promise<WindowApproval[]>;
  /** Failed effects, whenever their approval was created. */
  countFailedEffects(readable: ReadonlySet<string>): Promise<number>;
  /** Per DAG: approvals created in the window whose SLA warning fired. */
  countWarnedByDag(since: string, readable: ReadonlySet<string>): Promise<DagCount[]>;
  /** Per DAG: approvals created in the window that were escalated. */
  countEscalatedByDag(since: string, readable: ReadonlySet<string>): Promise<DagCount[]>;
}

const inWindow = (since: string, readable: ReadonlySet<string>) => (eb: ExpressionBuilder<Database, 'approval'>) =>
  eb.and([eb('approval.created_at', '>=', since), eb('approval.dag_id', 'in', dagIdList(readable))]);

// Counts come back as strings or bigints on PostgreSQL.
const toDagCounts = (rows: { dag_id: string; n: unknown }[]): DagCount[] => rows.map((row) => ({ dag_id: row.dag_id, n: Number(row.n) }));

export class SqlStatsStore implements StatsStore {
  constructor(private readonly db: Db) {}

  async countPending(readable: ReadonlySet<string>) {
    const row = await this.db
      .selectFrom('approval')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', '=', 'pending')
      .where('dag_id', 'in', dagIdList(readable))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  approvalsSince(since: string, readable: ReadonlySet<string>) {
    return this.db
      .selectFrom('approval')
      .select(['id', 'dag_id', 'run_id', 'task_id', 'state', 'created_at', 'decided_at', 'due_at'])
      .where('created_at', '>=', since)
      .where('dag_id', 'in', dagIdList(readable))
      .execute();
  }

  async countFailedEffects(readable: ReadonlySet<string>) {
    const row = await this.db
      .selectFrom('effect')
      .innerJoin('approval', 'approval.id', 'effect.approval_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('effect.state', '=', 'failed')
      .where('approval.dag_id', 'in', dagIdList(readable))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async countWarnedByDag(since: string, readable: ReadonlySet<string>) {
    const rows = await this.db
      .selectFrom('timer')
      .innerJoin('approval', 'approval.id', 'timer.approval_id')
      .select(['approval.dag_id', (eb) => eb.fn.count<number>('timer.approval_id').distinct().as('n')])
      .where('timer.kind', '=', 'sla_warning')
      .where('timer.state', '=', 'fired')
      .where(inWindow(since, readable))
      .groupBy('approval.dag_id')
      .execute();
    return toDagCounts(rows);
  }

  async countEscalatedByDag(since: string, readable: ReadonlySet<string>) {
    const rows = await this.db
      .selectFrom('approval_escalation')
      .innerJoin('approval', 'approval.id', 'approval_escalation.approval_id')
      .select(['approval.dag_id', (eb) => eb.fn.count<number>('approval_escalation.approval_id').distinct().as('n')])
      .where(inWindow(since, readable))
      .groupBy('approval.dag_id')
      .execute();
    return toDagCounts(rows);
  }
}
