import { type CreateTableBuilder, type Kysely, type Migration, PostgresAdapter } from 'kysely';

// SQLite makes `integer primary key` the rowid; PostgreSQL needs an identity column.
function withSerialId<T extends string>(db: Kysely<any>, table: CreateTableBuilder<T, never>) {
  return db.getExecutor().adapter instanceof PostgresAdapter
    ? table.addColumn('id', 'integer', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

// One set of migrations for SQLite and PostgreSQL: portable types only, JSON kept as text. Each is typed
// against `Kysely<any>`, so a change to the schema type in db.ts never changes what an old migration does.
// Names sort in the order the migrations landed; a new one takes the next number.
export const migrations: Record<string, Migration> = {
  '0001_approvals': {
    async up(db: Kysely<any>) {
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
  '0002_audit': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('audit_entry')
        // Not a database sequence: the trail assigns last + 1, so a deleted entry leaves a gap verify can see.
        .addColumn('seq', 'integer', (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('channel', 'text')
        .addColumn('approval_id', 'text')
        .addColumn('reason', 'text')
        .addColumn('details', 'text', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_entry_approval').on('audit_entry').columns(['approval_id', 'seq']).execute();
    },
  },
  '0003_policy_context': {
    async up(db: Kysely<any>) {
      // What policies match on and who asked: kept with the approval so they resolve again at decision time.
      await db.schema.alterTable('approval').addColumn('requester', 'text').execute();
      await db.schema.alterTable('approval').addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]')).execute();
      await db.schema.alterTable('approval').addColumn('request_values', 'text', (c) => c.notNull().defaultTo('{}')).execute();
      await db.schema.alterTable('approval').addColumn('policy_version', 'text').execute();
      await db.schema.alterTable('vote').addColumn('level', 'integer', (c) => c.notNull().defaultTo(1)).execute();
      await db.schema.alterTable('vote').addColumn('role', 'text').execute();
      // A changed mind adds a vote and marks the earlier one replaced; both stay for the audit.
      await db.schema.alterTable('vote').addColumn('replaced', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
  },
  '0004_action_confirmations': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('action_confirmation')
        .addColumn('token', 'text', (c) => c.primaryKey())
        .addColumn('user', 'text', (c) => c.notNull())
        .addColumn('request', 'text', (c) => c.notNull())
        .addColumn('effect', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .execute();
    },
  },
  '0005_effect_waiting_seen': {
    async up(db: Kysely<any>) {
      // When an answer first found its task waiting; it is sent once the task has waited long enough.
      await db.schema.alterTable('effect').addColumn('waiting_seen_at', 'text').execute();
    },
  },
  '0006_channels': {
    async up(db: Kysely<any>) {
      // One row per message per recipient: the rendered summary GET /api/v1/messages lists. Channel payloads
      // (with one-click links) are rendered again at each send, so no credential is ever stored here.
      await db.schema
        .createTable('notification')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('approval_id', 'text', (c) => c.notNull().references('approval.id'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('recipient', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('notification_approval').on('notification').columns(['approval_id', 'created_at']).execute();
      await db.schema.createIndex('notification_created').on('notification').columns(['created_at', 'id']).execute();
      await withSerialId(db, db.schema.createTable('delivery'))
        .addColumn('notification_id', 'text', (c) => c.notNull().references('notification.id'))
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'text', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('sent_at', 'text')
        .addColumn('fallback_of', 'integer')
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'text')
        .execute();
      await db.schema.createIndex('delivery_due').on('delivery').columns(['state', 'next_attempt_at']).execute();
      await db.schema.createIndex('delivery_notification').on('delivery').column('notification_id').execute();
      // Used one-click links: the primary key makes a second use of the same link fail atomically.
      await db.schema
        .createTable('link_use')
        .addColumn('jti', 'text', (c) => c.primaryKey())
        .addColumn('approval_id', 'text', (c) => c.notNull())
        .addColumn('user', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0007_timers': {
    async up(db: Kysely<any>) {
      // Each moment in an approval's clock is a row: claimed with a lease, fired once (the unique key makes
      // scheduling idempotent across replicas), cancelled when the approval is no longer pending.
      await withSerialId(db, db.schema.createTable('timer'))
        .addColumn('approval_id', 'text', (c) => c.notNull().references('approval.id'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('due_at', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'text')
        .addColumn('fired_at', 'text')
        .addColumn('last_error', 'text')
        .addUniqueConstraint('timer_once', ['approval_id', 'kind', 'key'])
        .execute();
      await db.schema.createIndex('timer_due').on('timer').columns(['state', 'due_at']).execute();
      // People (or roles) an escalation step made approvers of one level of one approval.
      await withSerialId(db, db.schema.createTable('approval_escalation'))
        .addColumn('approval_id', 'text', (c) => c.notNull().references('approval.id'))
        .addColumn('level', 'integer', (c) => c.notNull())
        .addColumn('step', 'integer', (c) => c.notNull())
        .addColumn('approver', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addUniqueConstraint('approval_escalation_once', ['approval_id', 'level', 'approver'])
        .execute();
    },
  },
  '0008_hook_deliveries': {
    async up(db: Kysely<any>) {
      // Inbound webhook deliveries seen, by source and the sender's delivery id: a replay gets the first answer.
      await db.schema
        .createTable('hook_delivery')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('delivery_id', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('status', 'integer')
        .addColumn('response', 'text')
        .addPrimaryKeyConstraint('hook_delivery_pk', ['source', 'delivery_id'])
        .execute();
    },
  },
  '0009_external_approvals': {
    async up(db: Kysely<any>) {
      // Approvals a DAG waits for with a sensor (no HITL task to answer), and what to publish once decided.
      await db.schema.alterTable('approval').addColumn('external', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('approval').addColumn('signals', 'text', (c) => c.notNull().defaultTo('[]')).execute();
      // A stable, read-only face of the store for SQL sensors: grant SELECT on it, not on the tables.
      await db.schema
        .createView('approval_status')
        .as(
          db
            .selectFrom('approval')
            .select(['id', 'dag_id', 'run_id', 'task_id', 'map_index', 'try_number', 'state', 'policy', 'created_at', 'decided_at', 'outcome'])
            .select((eb) =>
              eb
                .selectFrom('vote')
                .select((v) => v.fn.countAll().as('n'))
                .whereRef('vote.approval_id', '=', 'approval.id')
                .where('vote.replaced', '=', 0)
                .as('votes'),
            ),
        )
        .execute();
    },
  },
  '0010_effect_parked_at': {
    async up(db: Kysely<any>) {
      // An answer now waits from when its task entered awaiting_input (Airflow's event log), not from when it was first seen.
      await db.schema.alterTable('effect').renameColumn('waiting_seen_at', 'parked_at').execute();
    },
  },
  '0011_owners_and_timeout': {
    async up(db: Kysely<any>) {
      // Who counts as requester of an unattended run, and Airflow's own end of the wait (shown with the deadline).
      await db.schema.alterTable('approval').addColumn('owners', 'text', (c) => c.notNull().defaultTo('[]')).execute();
      await db.schema.alterTable('approval').addColumn('timeout_at', 'text').execute();
    },
  },
  '0012_audit_key': {
    async up(db: Kysely<any>) {
      // Written by the bridge at start (it alone holds the key): entries before keyed_from keep their plain sha256.
      await db.schema
        .createTable('audit_key')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('keyed_from', 'integer', (c) => c.notNull())
        .addColumn('mac', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0013_deferred_votes': {
    async up(db: Kysely<any>) {
      // Votes taken while Airflow was unreachable: acknowledged and kept, counted only once Airflow allows the voter.
      await withSerialId(db, db.schema.createTable('deferred_vote'))
        .addColumn('approval_id', 'text', (c) => c.notNull().references('approval.id'))
        .addColumn('user', 'text', (c) => c.notNull())
        .addColumn('role', 'text')
        .addColumn('option', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('params_input', 'text')
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('idempotency_key', 'text', (c) => c.notNull())
        .addColumn('token_sealed', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'text')
        .addColumn('last_error', 'text')
        .addUniqueConstraint('deferred_vote_once', ['approval_id', 'user', 'idempotency_key'])
        .execute();
    },
  },
  '0014_messages_channel': {
    async up(db: Kysely<any>) {
      // The bridge's own channel was called `outbox`; it is `messages`, as the route and the page that show it.
      await db.updateTable('delivery').set({ channel: 'messages' }).where('channel', '=', 'outbox').execute();
    },
  },
  '0015_break_glass': {
    async up(db: Kysely<any>) {
      // A break-glass bypass on the approval it decided, and on its after-the-fact review what that reviews.
      await db.schema.alterTable('approval').addColumn('bypass', 'text').execute();
      await db.schema.alterTable('approval').addColumn('review_of', 'text').execute();
    },
  },
  '0016_claims': {
    async up(db: Kysely<any>) {
      // A reviewer's claim on a pending approval (the review queue): votes by anyone else wait until it ends.
      await db.schema.alterTable('approval').addColumn('claimed_by', 'text').execute();
      await db.schema.alterTable('approval').addColumn('claimed_until', 'text').execute();
    },
  },
  '0017_receipts': {
    async up(db: Kysely<any>) {
      // A final decision's signed receipt, and on each vote the digest of the content its voter saw.
      await db.schema.alterTable('approval').addColumn('receipt', 'text').execute();
      await db.schema.alterTable('vote').addColumn('content_digest', 'text').execute();
    },
  },
  '0018_policy_versions': {
    async up(db: Kysely<any>) {
      // Four-eyes on policy changes: every version proposed, and who approved or rejected it.
      await db.schema
        .createTable('policy_version')
        .addColumn('version', 'text', (c) => c.primaryKey())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('proposed_by', 'text')
        .addColumn('proposed_at', 'text', (c) => c.notNull())
        .addColumn('base_version', 'text')
        .addColumn('reason', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('decided_by', 'text')
        .addColumn('decided_at', 'text')
        .addColumn('decision_reason', 'text')
        .execute();
      await db.schema.createIndex('policy_version_decided').on('policy_version').columns(['state', 'decided_at']).execute();
    },
  },
  '0019_delegations': {
    async up(db: Kysely<any>) {
      // A person's vote handed to a deputy for a period (optionally for some policies only); revoked, never deleted.
      await db.schema
        .createTable('delegation')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('delegator', 'text', (c) => c.notNull())
        .addColumn('deputy', 'text', (c) => c.notNull())
        .addColumn('starts_at', 'text', (c) => c.notNull())
        .addColumn('ends_at', 'text', (c) => c.notNull())
        .addColumn('policies', 'text')
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('revoked_by', 'text')
        .execute();
      await db.schema.createIndex('delegation_ends').on('delegation').columns(['ends_at']).execute();
      // A deputy's vote names whose seat it fills; null for a vote in one's own name.
      await db.schema.alterTable('vote').addColumn('on_behalf_of', 'text').execute();
    },
  },
};

/** The names stores recorded before the migrations were numbered in the order they landed (two were 0011). */
export const FORMER_MIGRATION_NAMES: Readonly<Record<string, string>> = {
  '0009_action_confirmations': '0004_action_confirmations',
  '0010_effect_waiting_seen': '0005_effect_waiting_seen',
  '0011_channels': '0006_channels',
  '0012_timers': '0007_timers',
  '0013_hook_deliveries': '0008_hook_deliveries',
  '0014_external_approvals': '0009_external_approvals',
  '0011_effect_parked_at': '0010_effect_parked_at',
  '0015_owners_and_timeout': '0011_owners_and_timeout',
  '0016_audit_key': '0012_audit_key',
  '0017_deferred_votes': '0013_deferred_votes',
};

/**
 * Renames migrations a store recorded under their former names, before the migrator reads them. The migrator
 * wants the applied ones, ordered by when they ran and then by name, to be the first ones by name; the renamed
 * ones take one timestamp (the latest of theirs) so that holds whichever order they ran in. Each step is one
 * idempotent statement, so replicas starting together end with the same rows.
 */
export async function renameFormerMigrations(db: Kysely<any>): Promise<void> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  if (!tables.some((t) => t.name === 'kysely_migration')) return;
  await db.transaction().execute(async (trx) => {
    const former = await trx.selectFrom('kysely_migration').select('name').where('name', 'in', Object.keys(FORMER_MIGRATION_NAMES)).execute();
    if (former.length === 0) return;
    const renamed = former.map((row: { name: string }) => FORMER_MIGRATION_NAMES[row.name]);
    for (const { name } of former) {
      await trx.updateTable('kysely_migration').set({ name: FORMER_MIGRATION_NAMES[name] }).where('name', '=', name).execute();
    }
    const { latest } = await trx
      .selectFrom('kysely_migration')
      .select((eb) => eb.fn.max('timestamp').as('latest'))
      .where('name', 'in', renamed)
      .executeTakeFirstOrThrow();
    await trx.updateTable('kysely_migration').set({ timestamp: latest }).where('name', 'in', renamed).execute();
  });
}
