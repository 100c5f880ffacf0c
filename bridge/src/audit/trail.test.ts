import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../store/db.js';
import { databases } from '../testing/databases.js';
import { AUDIT_KEY } from '../testing/fake-airflow.js';
import { canonicalJson } from './canonical.js';
import { FileCheckpoints } from './checkpoint.js';
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
    trail = new AuditTrail(db, AUDIT_KEY, { verifyPageSize: 2 }); // tiny pages so verify crosses page boundaries
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
    expect(entryHash(items[1]!, AUDIT_KEY)).toBe(second.hash);
    expect(await trail.verify()).toEqual({ ok: true, checked: 2, first_bad_seq: null, problem: null, head_seq: 2, keyed_from: 1, checkpoint: null });
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
    expect(await trail.verify()).toMatchObject({ ok: true, checked: 50, first_bad_seq: null });
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
    expect(await trail.verify()).toMatchObject({ ok: false, checked: 3, first_bad_seq: 3, problem: 'altered' });
  });

  /** What someone with write access to the store (but not the key) does: rewrite seq `from`, re-chain every later entry. */
  const rewriteFrom = async (from: number, key: Uint8Array | null) => {
    const { items } = await trail.list({ limit: 100 });
    let prev = items[from - 2]?.hash ?? GENESIS_HASH;
    for (const entry of items.slice(from - 1)) {
      const forged = { ...entry, prev_hash: prev, details: entry.seq === from ? { ...entry.details, option: 'Reject' } : entry.details };
      const hash = entryHash(forged, key);
      await sql`update audit_entry set details = ${canonicalJson(forged.details)}, prev_hash = ${prev}, hash = ${hash} where seq = ${entry.seq}`.execute(db);
      prev = hash;
    }
  };

  it.each([
    ['plain sha256', null],
    ['a guessed key', new TextEncoder().encode('not-the-audit-key-0123456789abcdef')],
  ])('names the rewritten entry when every later hash was recomputed (%s)', async (_name, key) => {
    await appendFive();
    await rewriteFrom(2, key);
    expect(await trail.verify()).toMatchObject({ ok: false, checked: 2, first_bad_seq: 2, problem: 'altered' });
  });

  it('reports a deleted entry by its missing seq', async () => {
    await appendFive();
    await sql`delete from audit_entry where seq = 3`.execute(db);
    expect(await trail.verify()).toMatchObject({ ok: false, checked: 3, first_bad_seq: 3, problem: 'missing' });
  });

  it('reports details that no longer parse', async () => {
    await appendFive();
    await sql`update audit_entry set details = '{"option":' where seq = 4`.execute(db);
    expect(await trail.verify()).toMatchObject({ ok: false, checked: 4, first_bad_seq: 4, problem: 'altered' });
  });

  describe('checkpointed outside the store', () => {
    let dir: string;
    let checkpoints: FileCheckpoints;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'airgate-audit-'));
      checkpoints = new FileCheckpoints(join(dir, 'checkpoint.json'));
      trail = new AuditTrail(db, AUDIT_KEY, { checkpoints, verifyPageSize: 2, now: () => new Date('2026-11-25T10:01:00Z') });
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('writes the signed head and compares the chain with it', async () => {
      await appendFive();
      await trail.checkpoint();
      expect(JSON.parse(readFileSync(checkpoints.path, 'utf8'))).toMatchObject({ seq: 5, at: '2026-11-25T10:01:00.000Z', keyed_from: 1, mac: expect.stringMatching(/^[0-9a-f]{64}$/) });
      await trail.append(db, { actor: 'alice', action: 'vote.recorded' });
      expect(await trail.verify()).toEqual({ ok: true, checked: 6, first_bad_seq: null, problem: null, head_seq: 6, keyed_from: 1, checkpoint: { seq: 5, at: '2026-11-25T10:01:00.000Z' } });
    });

    it('reports entries removed from the end (truncation), which the chain alone cannot show', async () => {
      await appendFive();
      await trail.checkpoint();
      await sql`delete from audit_entry where seq >= 4`.execute(db);
      expect(await trail.verify()).toMatchObject({ ok: false, first_bad_seq: 4, problem: 'truncated', head_seq: 3, checkpoint: { seq: 5 } });
    });

    it('reports a rewrite recomputed even with the key at the checkpointed entry', async () => {
      await appendFive();
      await trail.checkpoint();
      await rewriteFrom(3, AUDIT_KEY);
      expect(await trail.verify()).toMatchObject({ ok: false, first_bad_seq: 5, problem: 'checkpoint_mismatch' });
    });

    it('reports a checkpoint whose signature fails, and never moves the file backwards', async () => {
      await appendFive();
      await trail.checkpoint();
      const stored = JSON.parse(readFileSync(checkpoints.path, 'utf8'));
      await checkpoints.write({ ...stored, seq: 2 });
      expect(JSON.parse(readFileSync(checkpoints.path, 'utf8')).seq).toBe(5);
      writeFileSync(checkpoints.path, JSON.stringify({ ...stored, seq: 9 }));
      expect(await trail.verify()).toMatchObject({ ok: false, first_bad_seq: null, problem: 'checkpoint_invalid' });
    });
  });

  describe('a store written before the audit key existed', () => {
    /** Entries as a bridge without a key wrote them: plain sha256, chained. */
    const appendUnkeyed = async (count: number) => {
      let prev = GENESIS_HASH;
      for (let seq = 1; seq <= count; seq++) {
        const entry = { seq, at: `2026-11-24T10:00:0${seq}.000Z`, actor: 'alice', action: 'vote.recorded', channel: null, approval_id: 'appr-old', reason: null, details: { n: seq }, prev_hash: prev };
        const hash = entryHash(entry, null);
        await db.insertInto('audit_entry').values({ ...entry, details: canonicalJson(entry.details), hash }).execute();
        prev = hash;
      }
    };

    it('keeps its entries as written and keys every entry from the first one after init', async () => {
      await appendUnkeyed(3);
      await trail.init();
      await trail.init();
      await appendFive();
      expect(await trail.verify()).toMatchObject({ ok: true, checked: 8, keyed_from: 4 });
    });

    it('a rewrite of an old entry is found at the first keyed entry after it', async () => {
      await appendUnkeyed(3);
      await trail.init();
      await appendFive();
      await rewriteFrom(2, null);
      expect(await trail.verify()).toMatchObject({ ok: false, first_bad_seq: 4, problem: 'altered', keyed_from: 4 });
    });

    it('a boundary moved in the store is not trusted: every entry must then be keyed', async () => {
      await appendUnkeyed(3);
      await trail.init();
      await appendFive();
      await sql`update audit_key set keyed_from = 9`.execute(db);
      expect(await trail.verify()).toMatchObject({ ok: false, first_bad_seq: 1, problem: 'altered', keyed_from: 1 });
    });
  });
});
