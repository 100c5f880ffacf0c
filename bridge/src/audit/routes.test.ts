import express from 'express';
import { parse } from 'csv-parse/sync';
import { sql } from 'kysely';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqlApprovalStore } from '../approvals/store.js';
import { requirePerson } from '../http/auth.js';
import { Contract } from '../http/contract.js';
import { errorHandler } from '../http/errors.js';
import type { Db } from '../store/db.js';
import { databases } from '../testing/databases.js';
import { ACCESS_TTL_MS, AUDIT_KEY, fakeAuthentication, silentLog, tokenFor } from '../testing/fake-airflow.js';
import { request1 } from '../testing/harness.js';
import { auditRoutes } from './routes.js';
import { AuditTrail } from './trail.js';

describe.each(databases)('audit API on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  let app: express.Express;
  let authentication: ReturnType<typeof fakeAuthentication>;
  let alice: string;
  let a: string;
  let b: string;
  let trail: AuditTrail;
  const get = (path: string) => request(app).get(path).set('Authorization', `Bearer ${alice}`);

  beforeEach(async () => {
    ({ db, drop } = await database.create());
    trail = new AuditTrail(db, AUDIT_KEY);
    const store = new SqlApprovalStore(db, trail);
    const register = async (dag_id: string) =>
      (await store.register({ ...request1, dag_id, policy: null, policy_version: 'v', due_at: null, policy_error: null }, 'test')).approval.id;
    a = await register('dag_a');
    b = await register('dag_b');
    authentication = fakeAuthentication(db);
    alice = await tokenFor('alice');
    app = express();
    app.use(express.json());
    const contract = new Contract({ person: [requirePerson(authentication.authenticate)], service: [] });
    auditRoutes(contract, trail, async () => undefined);
    app.use(contract.api);
    app.use(errorHandler(silentLog));
    for (const approval_id of [a, b, a]) {
      await trail.append(db, { actor: 'alice', action: 'vote.recorded', channel: 'api', approval_id, details: { option: 'Approve' } });
    }
    await trail.append(db, { actor: 'alice', action: 'action.applied', details: { request: { kind: 'pause_dag', dag_id: 'dag_b' } } });
  });
  afterEach(() => drop());

  it('rejects a bad limit naming the field', async () => {
    const res = await get('/api/v1/audit?limit=0');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'bad_request', field: 'limit' });
  });

  it.each(['abc', '-1', '1.5'])('rejects a cursor that is no seq: %s', async (cursor) => {
    const res = await get(`/api/v1/audit?cursor=${cursor}`);
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('cursor');
  });

  it('answers an empty last page for a cursor past any seq the store can hold', async () => {
    const res = await get('/api/v1/audit?cursor=99999999999999999999999');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: [], next_cursor: null });
  });

  it('lists the entries of one approval, page by page', async () => {
    const first = (await get(`/api/v1/audit?approval_id=${a}&limit=1`)).body.items[0].seq as number;
    const page1 = await get(`/api/v1/audit?approval_id=${a}&limit=1&cursor=${first}`);
    expect(page1.status).toBe(200);
    expect(page1.body).toMatchObject({
      items: [{ actor: 'alice', action: 'vote.recorded', channel: 'api', approval_id: a, details: { option: 'Approve' } }],
      next_cursor: expect.any(String),
    });
    const page2 = await get(`/api/v1/audit?approval_id=${a}&limit=1&cursor=${page1.body.next_cursor}`);
    expect(page2.body).toMatchObject({ items: [{ approval_id: a, action: 'vote.recorded' }], next_cursor: null });
    expect(page2.body.items[0].prev_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('lists only entries of DAGs Airflow lets the person read: their approvals and actions', async () => {
    const everything = await get('/api/v1/audit?limit=500');
    expect(everything.body.items.filter((e: { approval_id: string }) => e.approval_id === b)).not.toEqual([]);
    expect(everything.body.items.map((e: { action: string }) => e.action)).toContain('action.applied');

    authentication.permissions.hide('alice', 'dag_b');
    // Airflow's answer is kept for a while: the change shows once it is asked again.
    authentication.clock.advance(ACCESS_TTL_MS + 1);
    const scoped = await get('/api/v1/audit?limit=500');
    expect(scoped.status).toBe(200);
    expect(scoped.body.items.length).toBeGreaterThan(0);
    expect(scoped.body.items.map((e: { approval_id: string | null }) => e.approval_id)).toEqual(scoped.body.items.map(() => a));
    const ofB = await get(`/api/v1/audit?approval_id=${b}`);
    expect(ofB.body.items).toEqual([]);
  });

  describe('filters: the history of one DAG, one action, one actor, a time range', () => {
    type Entry = { seq: number; at: string; actor: string; action: string; approval_id: string | null; details: { request?: { kind: string } } };
    const list = async (query: string) => {
      const res = await get(`/api/v1/audit?limit=500&${query}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.items as Entry[];
    };
    beforeEach(async () => {
      const action = (kind: string, at: string, actor = 'bob') =>
        trail.append(db, { actor, action: 'action.applied', reason: kind, details: { request: { kind, dag_id: 'dag_b' } }, at });
      await action('pause_dag', '2026-11-25T10:00:00.000Z');
      await action('resume_dag', '2026-11-25T10:05:00.000Z');
      await trail.append(db, { actor: 'bob', action: 'action.applied', details: { request: { kind: 'pause_dag', dag_id: 'dag_a' } }, at: '2026-11-25T10:02:00.000Z' });
    });

    it("by DAG: its approvals' entries and the actions naming it, nothing of other DAGs", async () => {
      const ofB = await list('dag_id=dag_b');
      expect(ofB.length).toBeGreaterThan(0);
      for (const e of ofB) expect(e.approval_id === b || (e.approval_id === null && JSON.stringify(e.details).includes('"dag_id":"dag_b"'))).toBe(true);
      expect(ofB.filter((e) => e.approval_id === b).map((e) => e.action)).toEqual(expect.arrayContaining(['approval.registered', 'vote.recorded']));
      // The DAG id is matched exactly, never as a pattern.
      expect(await list('dag_id=dag%25')).toEqual([]);
    });

    it("by DAG and action: the DAG's pause history, oldest first", async () => {
      const history = await list('dag_id=dag_b&action=action.applied');
      expect(history.map((e) => [e.actor, e.details.request?.kind])).toEqual([
        ['alice', 'pause_dag'],
        ['bob', 'pause_dag'],
        ['bob', 'resume_dag'],
      ]);
    });

    it('by actor and time range (since inclusive, until exclusive)', async () => {
      const byBob = await list('actor=bob');
      expect(byBob.map((e) => e.details.request?.kind)).toEqual(['pause_dag', 'resume_dag', 'pause_dag']);
      const window = await list('actor=bob&since=2026-11-25T10:00:00Z&until=2026-11-25T11:05:00%2B01:00');
      expect(window.map((e) => e.at)).toEqual(['2026-11-25T10:00:00.000Z', '2026-11-25T10:02:00.000Z']);
      // A range that ends before it starts holds nothing: an empty page, as the contract's schema allows it.
      expect(await list('since=2026-11-25T11:00:00Z&until=2026-11-25T10:00:00Z')).toEqual([]);
    });

    it.each([
      ['since=yesterday', 'since'],
      ['until=2026-11-25', 'until'],
      ['action=DROP%20TABLE', 'action'],
      ['actor=', 'actor'],
      ['dag_id=a&dag_id=b', 'dag_id'],
    ])('refuses %s naming the field', async (query, field) => {
      const res = await get(`/api/v1/audit?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'bad_request', field });
    });
  });

  describe('export: every selected entry as JSON or CSV, with the chain verified', () => {
    type Exported = { seq: number; approval_id: string | null; action: string; reason: string | null; chain_verified: boolean };
    const exportOf = async (query: string) => {
      const res = await get(`/api/v1/audit/export?${query}`);
      expect(res.status, res.text).toBe(200);
      return res;
    };
    const rowsOf = (csv: string) => parse(csv, { columns: true }) as Record<string, string>[];

    it('exports all pages of one approval as one JSON document, named as a download', async () => {
      for (let i = 0; i < 520; i++) await trail.append(db, { actor: 'bob', action: 'vote.recorded', approval_id: a, details: { n: i } });
      const res = await exportOf(`approval_id=${a}`);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['content-disposition']).toMatch(/^attachment; filename="airgate-audit-.*\.json"$/);
      expect(res.headers['airgate-audit-chain']).toBe('ok');
      const body = res.body as { exported_by: string; filters: object; verification: { ok: boolean }; count: number; entries: Exported[] };
      expect(body).toMatchObject({ exported_by: 'alice', filters: { approval_id: a }, verification: { ok: true } });
      expect(body.count).toBe(body.entries.length);
      expect(body.count).toBe(1 + 2 + 520); // registered, two votes, and the 520 added
      expect(new Set(body.entries.map((e) => e.approval_id))).toEqual(new Set([a]));
      expect(body.entries.map((e) => e.seq)).toEqual([...body.entries.map((e) => e.seq)].sort((x, y) => x - y));
      expect(body.entries.every((e) => e.chain_verified)).toBe(true);
    });

    it('exports CSV with a header row, details as JSON, and formulas neutralised', async () => {
      await trail.append(db, { actor: 'bob', action: 'vote.recorded', approval_id: b, reason: '=HYPERLINK("http://evil")', details: { option: 'Reject' } });
      const res = await exportOf(`format=csv&dag_id=dag_b`);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      expect(res.headers['content-disposition']).toMatch(/\.csv"$/);
      const rows = rowsOf(res.text);
      expect(Object.keys(rows[0]!)).toEqual(['seq', 'at', 'actor', 'action', 'channel', 'approval_id', 'reason', 'details', 'prev_hash', 'hash', 'chain_verified']);
      const json = (await exportOf('dag_id=dag_b')).body as { entries: Exported[] };
      expect(rows.map((r) => Number(r.seq))).toEqual(json.entries.map((e) => e.seq));
      const rejected = rows.find((r) => r.reason?.includes('HYPERLINK'))!;
      expect(rejected.reason).toBe(`'=HYPERLINK("http://evil")`);
      expect(JSON.parse(rejected.details!)).toEqual({ option: 'Reject' });
      expect(rows.every((r) => r.chain_verified === 'true')).toBe(true);
    });

    it('marks the entries from the first broken one on, and says so in a header', async () => {
      const { items } = await trail.list({ approval_id: a, limit: 10 });
      const broken = items[1]!.seq;
      await sql`update audit_entry set reason = ${'rewritten'} where seq = ${broken}`.execute(db);
      const res = await exportOf(`approval_id=${a}`);
      expect(res.headers['airgate-audit-chain']).toBe(`broken at ${broken} (altered)`);
      const body = res.body as { verification: { ok: boolean; first_bad_seq: number }; entries: Exported[] };
      expect(body.verification).toMatchObject({ ok: false, first_bad_seq: broken });
      expect(body.entries.map((e) => [e.seq, e.chain_verified])).toEqual(body.entries.map((e) => [e.seq, e.seq < broken]));
    });

    it('leaves out what the person may not read, as the list does', async () => {
      authentication.permissions.hide('alice', 'dag_b');
      authentication.clock.advance(ACCESS_TTL_MS + 1);
      const body = (await exportOf('')).body as { entries: Exported[] };
      expect(body.entries.length).toBeGreaterThan(0);
      expect(body.entries.some((e) => e.approval_id === b)).toBe(false);
      expect(body.entries.some((e) => e.action === 'action.applied')).toBe(false);
    });

    it.each([
      ['format=xml', 'format'],
      ['since=yesterday', 'since'],
    ])('refuses %s naming the field, and writes nothing', async (query, field) => {
      const res = await get(`/api/v1/audit/export?${query}`);
      expect(res.status).toBe(400);
      expect(res.headers['content-disposition']).toBeUndefined();
      expect(res.body.error).toMatchObject({ code: 'bad_request', field });
    });
  });

  it('verifies the chain', async () => {
    const res = await get('/api/v1/audit/verify');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, first_bad_seq: null, problem: null, keyed_from: 1, checkpoint: null });
    expect(res.body.checked).toBeGreaterThanOrEqual(6);
  });
});
