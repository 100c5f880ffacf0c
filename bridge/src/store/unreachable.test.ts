import request from 'supertest';
import type { Request, Response } from 'express';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { errorHandler } from '../http/errors.js';
import { buildBridge } from '../testing/harness.js';
import { tokenFor } from '../testing/fake-airflow.js';
import { createDb, isStoreUnreachable } from './db.js';

describe('a store that cannot be reached', () => {
  // Nothing listens on port 1: every connection is refused, as while PostgreSQL restarts.
  const db = createDb({ databaseUrl: 'postgres://postgres@127.0.0.1:1/airgate', sqliteFile: ':memory:' });
  afterAll(() => db.destroy());

  it('makes reads and votes answer 503 in the contract shape, not 500', async () => {
    const bridge = buildBridge(db);
    const alice = await tokenFor('alice');
    const list = await request(bridge.app).get('/api/v1/approvals').set('Authorization', `Bearer ${alice}`);
    expect(list.status).toBe(503);
    expect(list.body).toEqual({ error: { code: 'unavailable', message: expect.any(String) } });
    const vote = await request(bridge.app)
      .post('/api/v1/approvals/some-id/votes')
      .set('Authorization', `Bearer ${alice}`)
      .send({ option: 'Approve' });
    expect(vote.status).toBe(503);
    expect(vote.body.error.code).toBe('unavailable');
    expect(bridge.events).toEqual([]);
  });

  it('is answered 503 by the error handler, whichever route met it', () => {
    const res = { status: vi.fn().mockReturnThis(), json: vi.fn() };
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    errorHandler({ error: () => {} })(err, {} as Request, res as unknown as Response, () => {});
    expect(res.status).toHaveBeenCalledWith(503);
    expect(res.json).toHaveBeenCalledWith({ error: { code: 'unavailable', message: expect.stringContaining('store is unreachable') } });
  });

  it('is told apart from errors the store answers', () => {
    expect(isStoreUnreachable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isStoreUnreachable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isStoreUnreachable(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(true);
    expect(isStoreUnreachable(Object.assign(new Error('duplicate key value'), { code: '23505' }))).toBe(false);
    expect(isStoreUnreachable(new Error('something else'))).toBe(false);
    expect(isStoreUnreachable('ECONNREFUSED')).toBe(false);
  });
});
