import { type Kysely, PostgresAdapter, type SelectQueryBuilder } from 'kysely';
import type { Database } from './db.js';

/** The ids of the rows a claim may take: due, not leased by a live worker, in order, one batch. */
export type DueIds<T extends keyof Database> = SelectQueryBuilder<Database, T, { id: number }>;

/**
 * Claims due rows atomically, in one statement: `lease` is an UPDATE of the rows `due` selects, returning them. On
 * PostgreSQL the selection is FOR UPDATE SKIP LOCKED, so replicas claim disjoint rows without waiting for each
 * other; SQLite serializes writers. RETURNING has no order, so the rows come back sorted by `order`.
 */
export async function claimDue<T extends keyof Database, Row>(
  db: Kysely<Database>,
  due: DueIds<T>,
  lease: (due: DueIds<T>) => Promise<Row[]>,
  order: (a: Row, b: Row) => number,
): Promise<Row[]> {
  const rows = await lease(db.getExecutor().adapter instanceof PostgresAdapter ? due.forUpdate().skipLocked() : due);
  return rows.sort(order);
}
