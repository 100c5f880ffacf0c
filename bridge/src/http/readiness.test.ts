import { describe, expect, it } from 'vitest';
import { answersWithin, assessReadiness } from './readiness.js';

describe('readiness', () => {
  it('is ready only when the store and Airflow answer', () => {
    expect(assessReadiness({ store: true, airflow: true }, { effects: 0 })).toEqual({
      ok: true,
      status: 'ready',
      details: { store: true, airflow: true, effects: 0 },
    });
  });

  it('is degraded, not unavailable, while only Airflow is unreachable: votes are still taken', () => {
    expect(assessReadiness({ store: true, airflow: false }, {})).toMatchObject({ ok: false, status: 'degraded' });
  });

  it('is unavailable while the store is unreachable, whatever Airflow says', () => {
    expect(assessReadiness({ store: false, airflow: true }, {})).toMatchObject({ ok: false, status: 'unavailable' });
    expect(assessReadiness({ store: false, airflow: false }, {})).toMatchObject({ ok: false, status: 'unavailable' });
  });
});

describe('answersWithin', () => {
  it('is true for a check that answers in time, false for one that fails, says false, or is too slow', async () => {
    expect(await answersWithin(async () => true, 1000)).toBe(true);
    expect(await answersWithin(async () => undefined, 1000)).toBe(true);
    expect(await answersWithin(async () => false, 1000)).toBe(false);
    expect(await answersWithin(() => Promise.reject(new Error('down')), 1000)).toBe(false);
    expect(await answersWithin(() => new Promise(() => {}), 20)).toBe(false);
  });
});
