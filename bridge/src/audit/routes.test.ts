import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorHandler } from '../http/errors.js';
import type { Db } from '../store/db.js';
import { databases } from '../testing/databases.js';
import { silentLog } from '../testing/fake-airflow.js';
import { auditRoutes } from './routes.js';
import { AuditTrail } from './trail.js';

describe.each(databases)('audit API on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  let app: express.Express;

  beforeEach(async () => {
    ({ db, drop } = await database.create());
    const trail = new AuditTrail(db);
    app = express();
    app.use(express.json());
    app.use('/api/v1/audit', auditRoutes(trail));
    app.use(errorHandler(silentLog));
    for (const approval_id of ['appr-a', 'appr-b', 'appr-a']) {
      await trail.append(db, { actor: 'alice', action: 'vote.recorded', channel: 'api', approval_id, details: { option: 'Approve' } });
    }
  });
  afterEach(() => drop());

  it('rejects a bad limit naming the field', async () => {
    const res = await request(app).get('/api/v1/audit?limit=0');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'bad_request', field: 'limit' });
  });

  it.each(['abc', '99999999999'])('rejects a cursor it did not hand out: %s', async (cursor) => {
    const res = await request(app).get(`/api/v1/audit?cursor=${cursor}`);
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('cursor');
  });

  it('lists the entries of one approval, page by page', async () => {
    const page1 = await request(app).get('/api/v1/audit?approval_id=appr-a&limit=1');
    expect(page1.status).toBe(200);
    expect(page1.body).toMatchObject({
      items: [{ seq: 1, actor: 'alice', action: 'vote.recorded', channel: 'api', approval_id: 'appr-a', details: { option: 'Approve' } }],
      next_cursor: '1',
    });
    const page2 = await request(app).get(`/api/v1/audit?approval_id=appr-a&limit=1&cursor=${page1.body.next_cursor}`);
    expect(page2.body).toMatchObject({ items: [{ seq: 3, approval_id: 'appr-a' }], next_cursor: null });
    expect(page2.body.items[0].prev_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('verifies the chain', async () => {
    const res = await request(app).get('/api/v1/audit/verify');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, checked: 3, first_bad_seq: null });
  });
});
