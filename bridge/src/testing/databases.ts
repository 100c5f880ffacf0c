import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Db, createDb, migrate } from '../store/db.js';

/** PostgreSQL for the store suites; CI and every dev machine run one here (trust auth). */
export const POSTGRES_URL = process.env.AIRGATE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: 'sqlite' | 'postgres';
  /**
   * A fresh database, migrated unless `migrated` is false; `drop` removes it. `url` reaches it from another
   * connection (PostgreSQL only).
   */
  create(options?: { migrated?: boolean }): Promise<{ db: Db; drop: () => Promise<void>; url?: string }>;
}

export const sqlite: TestDatabase = {
  name: 'sqlite',
  async create({ migrated = true } = {}) {
    const db = createDb({ sqliteFile: ':memory:' });
    if (migrated) await migrate(db);
    return { db, drop: () => db.destroy() };
  },
};

export const postgres: TestDatabase = {
  name: 'postgres',
  async create({ migrated = true } = {}) {
    const dbName = `airgate_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const url = new URL(POSTGRES_URL);
    url.pathname = `/${dbName}`;
    const db = createDb({ databaseUrl: url.toString(), sqliteFile: '' });
    if (migrated) await migrate(db);
    return {
      db,
      url: url.toString(),
      drop: async () => {
        await db.destroy();
        const cleanup = new pg.Client({ connectionString: POSTGRES_URL });
        await cleanup.connect();
        // The pool's sockets close asynchronously after destroy(); forcing them closed would surface as
        // unhandled connection errors in the test run, so wait for them to go first.
        for (let i = 0; i < 100; i++) {
          const { rows } = await cleanup.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [dbName]);
          if (rows[0].n === 0) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        await cleanup.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
        await cleanup.end();
      },
    };
  },
};

/** Every store suite runs once per database: `describe.each(databases)('... on $name', ...)`. */
export const databases: TestDatabase[] = [sqlite, postgres];
