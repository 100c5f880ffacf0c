import { type CreateTableBuilder, type Kysely, type Migration, PostgresAdapter } from 'kysely';

// SQLite makes `integer primary key` the rowid; PostgreSQL needs an identity column.
function withSerialId<T extends string>(db: Kysely<unknown>, table: CreateTableBuilder<T, never>) {
  return db.getExecutor().adapter instanceof PostgresAdapter
    ? table.addColumn('id', 'integer', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

// One set of migrations for SQLite and PostgreSQL: portable types only, JSON kept as text.
export const migrations: Record<string, Migration> = {
  '0001_approvals': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('approval')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('dag_id', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('task_id', 'text', (c) => c.notNull())
        .addColumn('map_index', 'integer', (c) => c.notNull())
        .addColumn('try_number', 'integer', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('body', 'text')
        .addColumn('options', 'text', (c) => c.notNull())
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('policy', 'text')
        .addColumn('level', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('due_at', 'text')
        .addColumn('decided_at', 'text')
        .addColumn('outcome', 'text')
        .addUniqueConstraint('approval_task_try', ['dag_id', 'run_id', 'task_id', 'map_index', 'try_number'])
        .execute();
      await db.schema.createIndex('approval_state_created').on('approval').columns(['state', 'created_at', 'id']).execute();
      await withSerialId(db, db.schema.createTable('vote'))
        .addColumn('approval_id', 'text', (c) => c.notNull().references('approval.id'))
        .addColumn('user', 'text', (c) => c.notNull())
        .addColumn('option', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('params_input', 'text')
        .addColumn('idempotency_key', 'text')
        .execute();
      await db.schema.createIndex('vote_approval').on('vote').column('approval_id').execute();
      await withSerialId(db, db.schema.createTable('effect'))
        .addColumn('approval_id', 'text', (c) => c.notNull().references('approval.id'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'text', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('done_at', 'text')
        .execute();
      await db.schema.createIndex('effect_due').on('effect').columns(['state', 'next_attempt_at']).execute();
    },
  },
};
