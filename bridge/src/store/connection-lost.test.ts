import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgres } from '../testing/databases.js';
import { isStoreUnreachable } from './db.js';

describe('a PostgreSQL store connection that breaks while in use', () => {
  let store: Awaited<ReturnType<typeof postgres.create>>;
  beforeAll(async () => {
    store = await postgres.create();
  });
  afterAll(() => store.drop());

  it('fails that transaction as unreachable, keeps the process up, and the next query connects again', async () => {
    const admin = new pg.Client({ connectionString: store.url });
    await admin.connect();
    // What the store restarting does to a connection mid-transaction: the server ends it.
    const failed = await store.db
      .transaction()
      .execute(async (tx) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx);
        await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
        await sql`select 1`.execute(tx);
      })
      .then(
        () => null,
        (err: unknown) => err,
      );
    await admin.end();
    expect(isStoreUnreachable(failed)).toBe(true);
    // An unhandled 'error' event would have ended the test run by now; the pool hands out a fresh connection.
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(store.db);
    expect(rows).toEqual([{ one: 1 }]);
  });
});
