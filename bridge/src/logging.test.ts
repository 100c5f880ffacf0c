import { Writable } from 'node:stream';
import { AxiosError, AxiosHeaders } from 'axios';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createLogger, errorForLog } from './logging.js';
import { memoryDb } from './testing/fake-airflow.js';
import { buildBridge, policiesWith, ANYONE_ELSE } from './testing/harness.js';

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJlLW9mLWEtbGluaw';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, log: createLogger('info', stream) };
}

describe('logs hold no link token and no credential', () => {
  it('request logs show /a/[redacted] for one-click link paths, with or without a query', async () => {
    const { lines, log } = capture();
    const bridge = buildBridge(await memoryDb(), policiesWith(ANYONE_ELSE), undefined, null, undefined, log);
    await request(bridge.app).get(`/a/${TOKEN}`);
    await request(bridge.app).post(`/a/${TOKEN}?from=mail`).type('form').send({ reason: 'ok' });
    const text = lines.join('');
    expect(text).not.toContain(TOKEN);
    expect(lines.map((l) => JSON.parse(l).req?.url).filter(Boolean)).toEqual(['/a/[redacted]', '/a/[redacted]?from=mail']);
  });

  it("an Airflow client error is logged without its request's Authorization header", () => {
    const headers = new AxiosHeaders({ Authorization: 'Bearer service-account-jwt' });
    const err = new AxiosError('Request failed with status code 500', 'ERR_BAD_RESPONSE', { headers, url: '/api/v2/dags', method: 'get' });
    const { lines, log } = capture();
    log.error({ err }, 'unhandled error');
    expect(lines.join('')).not.toContain('service-account-jwt');
    expect(errorForLog(err)).toMatchObject({ message: 'Request failed with status code 500', url: '/api/v2/dags', method: 'get' });
  });
});
