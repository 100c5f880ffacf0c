import { type Migration, Migrator, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { databases } from '../testing/databases.js';
import { type Db, migrate } from './db.js';
import { FORMER_MIGRATION_NAMES, migrations } from './migrations.js';

const currentName = (former: string) => FORMER_MIGRATION_NAMES[former] ?? former;

// The migrations as earlier bridges knew them: the same steps under the names they recorded.
function formerMigrations(formerNames: string[]): Record<string, Migration> {
  return Object.fromEntries(formerNames.map((former) => [former, migrations[currentName(former)] as Migration]));
}

// What an earlier bridge did at start: every migration it knew, the out-of-order ones allowed.
async function migrateAsBefore(db: Db, formerNames: string[]) {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => formerMigrations(formerNames) },
    allowUnorderedMigrations: true,
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}

async function recorded(db: Db) {
  const rows = await db
    .withTables<{ kysely_migration: { name: string; timestamp: string } }>()
    .selectFrom('kysely_migration')
    .select(['name', 'timestamp'])
    .execute();
  return new Map(rows.map((r) => [r.name, r.timestamp]));
}

/** The applied rows keep their time (at most the latest of theirs): what `migrate` ran again would be recorded anew. */
function expectKept(before: Map<string, string>, after: Map<string, string>) {
  const latest = [...before.values()].sort().at(-1) as string;
  for (const former of before.keys()) expect(after.get(currentName(former))! <= latest).toBe(true);
}

// A message kept on the bridge's own channel under its former name, `outbox`.
async function deliveredAsBefore(db: Db) {
  const at = '2026-11-30T12:00:00.000Z';
  await sql`INSERT INTO approval (id, dag_id, run_id, task_id, map_index, try_number, subject, options, params, state, level, created_at)
    VALUES ('a1', 'd', 'r', 't', -1, 1, 'Ship?', '[]', '{}', 'pending', 1, ${at})`.execute(db);
  await sql`INSERT INTO notification (id, approval_id, kind, recipient, subject, text, created_at)
    VALUES ('n1', 'a1', 'request', 'alice', 'Ship?', 'Ship?', ${at})`.execute(db);
  await sql`INSERT INTO delivery (notification_id, channel, address, state, attempts, next_attempt_at, created_at)
    VALUES ('n1', 'outbox', 'alice', 'sent', 0, ${at}, ${at})`.execute(db);
}

// The former names in the order they landed on main: each release's bridge knew a prefix of these.
const LANDED = [
  ['0001_approvals', '0002_audit', '0003_policy_context', '0009_action_confirmations'],
  ['0010_effect_waiting_seen'],
  ['0011_channels', '0012_timers', '0013_hook_deliveries'],
  ['0014_external_approvals'],
  ['0011_effect_parked_at', '0015_owners_and_timeout'],
  ['0016_audit_key'],
  ['0017_deferred_votes'],
];
const ALL_FORMER = LANDED.flat();

it('migrations are numbered in order, one number each, and every former name maps to one of them', () => {
  const names = Object.keys(migrations);
  expect(names).toEqual([...names].sort());
  expect(names.map((n) => n.slice(0, 4))).toEqual(names.map((_, i) => String(i + 1).padStart(4, '0')));
  expect(ALL_FORMER.map(currentName).sort()).toEqual(names.slice(0, ALL_FORMER.length));
});


describe.each(databases)('migrations on $name', (database) => {
  it.each([
    ['created by the last bridge with the former names', [ALL_FORMER]],
    ['grown release by release', LANDED],
  ])('a store %s migrates to the present names, nothing applied twice', async (_, releases) => {
    const { db, drop } = await database.create({ migrated: false });
    try {
      const known: string[] = [];
      for (const release of releases) {
        known.push(...release);
        await migrateAsBefore(db, known);
      }
      const before = await recorded(db);
      expect([...before.keys()].sort()).toEqual([...ALL_FORMER].sort());
      await deliveredAsBefore(db);

      // A migration run again would fail (its table or column exists); the renamed rows keep their former times.
      await migrate(db);
      const after = await recorded(db);
      expect([...after.keys()].sort()).toEqual(Object.keys(migrations));
      expectKept(before, after);
      expect(await db.selectFrom('delivery').select('channel').execute()).toEqual([{ channel: 'messages' }]);

      await migrate(db);
      expect(await recorded(db)).toEqual(after);
    } finally {
      await drop();
    }
  });

  it('a store left at an earlier release is renamed, then given the migrations it lacks', async () => {
    const { db, drop } = await database.create({ migrated: false });
    try {
      const atRelease = LANDED.slice(0, 4).flat();
      await migrateAsBefore(db, atRelease);
      const before = await recorded(db);

      await migrate(db);

      const after = await recorded(db);
      expect([...after.keys()].sort()).toEqual(Object.keys(migrations));
      expectKept(before, after);
      // What the ones it lacked did: the column renamed, the columns and tables added.
      await db.selectFrom('effect').select('parked_at').execute();
      await db.selectFrom('approval').select(['owners', 'timeout_at']).execute();
      await db.selectFrom('audit_key').select('keyed_from').execute();
      await db.selectFrom('deferred_vote').select('token_sealed').execute();
    } finally {
      await drop();
    }
  });

  it('a fresh store runs every migration once and records the present names', async () => {
    const { db, drop } = await database.create({ migrated: false });
    try {
      await migrate(db);
      expect([...(await recorded(db)).keys()].sort()).toEqual(Object.keys(migrations));
    } finally {
      await drop();
    }
  });
});
