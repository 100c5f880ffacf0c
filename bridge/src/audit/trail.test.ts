import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../store/db.js';
import { databases } from '../testing/databases.js';
import { canonicalJson } from './canonical.js';
import { AuditTrail, GENESIS_HASH, entryHash } from './trail.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: null }], c: 'x' } })).toBe('{"a":{"c":"x","d":[2,{"y":null,"z":1}]},"b":1}');
  });
});

describe.each(databases)('audit trail on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  let trail: AuditTrail;

  beforeEach(async () => {
    ({ db, drop } = await database.create());
    trail = new AuditTrail(db, 2); // tiny pages so verify crosses page boundaries
  });
  afterEach(() => drop());

  const appendFive = async () => {
    for (let i = 1; i <= 5; i++) {
      await trail.append(db, {
        actor: i % 2 ? 'alice' : 'system',
        action: 'vote.recorded',
        channel: 'ui',
        approval_id: i % 2 ? 'appr-a' : 'appr-b',
        reason: `reason ${i}`,
        details: { option: 'Approve', amount: 1000 + i, nested: { z: 1, a: [i] } },
        at: `2026-11-25T10:00:0${i}Z`,
      });
    }
  };

  it('chains each entry to the previous one and hashes exactly what it stores', async () => {
    const first = await trail.append(db, { actor: 'system', action: 'policy.reloaded', at: '2026-11-25T10:00:00Z' });
    expect(first).toMatchObject({
      seq: 1,
      at: '2026-11-25T10:00:00.000Z',
      channel: null,
      approval_id: null,
      reason: null,
      details: {},
      prev_hash: GENESIS_HASH,
    });
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    const second = await trail.append(db, { actor: 'bob', action: 'approval.decided', details: { when: new Date(0), gone: undefined } });
    expect(second).toMatchObject({ seq: 2, prev_hash: first.hash, details: { when: '1970-01-01T00:00:00.000Z' } });
    expect(second.details).not.toHaveProperty('gone');
    const { items } = await trail.list({ limit: 10 });
    expect(items).toEqual([first, second]);
    expect(entryHash(items[1]!)).toBe(second.hash);
    expect(await trail.verify()).toEqual({ ok: true, checked: 2, first_bad_seq: null });
  });

  it('lists in seq order, filtered by approval, page by page', async () => {
    await appendFive();
    const page1 = await trail.list({ approval_id: 'appr-a', limit: 2 });
    expect(page1.items.map((e) => e.seq)).toEqual([1, 3]);
    expect(page1.next_cursor).toBe('3');
    const page2 = await trail.list({ approval_id: 'appr-a', after_seq: 3, limit: 2 });
    expect(page2).toMatchObject({ items: [{ seq: 5, approval_id: 'appr-a', reason: 'reason 5' }], next_cursor: null });
    expect((await trail.list({ after_seq: 1, limit: 500 })).items.map((e) => e.seq)).toEqual([2, 3, 4, 5]);
  });

  it('gives 50 concurrent appenders, each in its own transaction, seq 1..50 without gaps', async () => {
    const appended = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        db.transaction().execute((tx) => trail.append(tx, { actor: `user${i}`, action: 'vote.recorded', details: { i } })),
      ),
    );
    expect(appended.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await trail.verify()).toEqual({ ok: true, checked: 50, first_bad_seq: null });
  });

  it('leaves no entry when the surrounding transaction rolls back', async () => {
    await expect(
      db.transaction().execute(async (tx) => {
        await trail.append(tx, { actor: 'alice', action: 'approval.decided' });
        throw new Error('decision failed');
      }),
    ).rejects.toThrow('decision failed');
    expect((await trail.list({ limit: 10 })).items).toEqual([]);
    expect((await trail.append(db, { actor: 'alice', action: 'approval.decided' })).seq).toBe(1);
  });

  it.each([
    ['details', 'details', '1003', '1013'],
    ['reason', 'reason', 'reason 3', 'reasom 3'],
  ] as const)('reports the entry whose %s was altered by one byte', async (_name, column, from, to) => {
    await appendFive();
    const row = await db.selectFrom('audit_entry').select(column).where('seq', '=', 3).executeTakeFirstOrThrow();
    const tampered = String(row[column]).replace(from, to);
    expect(tampered).not.toBe(row[column]);
    await sql`update audit_entry set ${sql.ref(column)} = ${tampered} where seq = 3`.execute(db);
    expect(await trail.verify()).toEqual({ ok: false, checked: 3, first_bad_seq: 3 });
  });

  it('reports the next entry when an altered entry was re-hashed, since the link no longer matches', async () => {
    await appendFive();
    const [entry] = (await trail.list({ after_seq: 1, limit: 1 })).items;
    const forged = { ...entry!, details: { ...entry!.details, option: 'Reject' } };
    await sql`update audit_entry set details = ${canonicalJson(forged.details)}, hash = ${entryHash(forged)} where seq = 2`.execute(db);
    expect(await trail.verify()).toEqual({ ok: false, checked: 3, first_bad_seq: 3 });
  });

  it('reports a deleted entry by its missing seq', async () => {
    await appendFive();
    await sql`delete from audit_entry where seq = 3`.execute(db);
    expect(await trail.verify()).toEqual({ ok: false, checked: 3, first_bad_seq: 3 });
  });

  it('reports details that no longer parse', async () => {
    await appendFive();
    await sql`update audit_entry set details = '{"option":' where seq = 4`.execute(db);
    expect(await trail.verify()).toEqual({ ok: false, checked: 4, first_bad_seq: 4 });
  });
});
