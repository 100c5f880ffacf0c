import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it('reads seconds, minutes, hours and days as milliseconds', () => {
    expect(['30s', '15m', '2h', '1d'].map(parseDuration)).toEqual([30_000, 900_000, 7_200_000, 86_400_000]);
  });

  it('refuses anything else', () => {
    expect(['0s', '1.5h', '2 hours', '10', '1w', '-1h', ''].map(parseDuration)).toEqual([null, null, null, null, null, null, null]);
  });

  it('refuses a duration no deadline date could hold', () => {
    expect(parseDuration('36500d')).toBe(36_500 * 86_400_000);
    expect(parseDuration('36501d')).toBeNull();
    expect(parseDuration('99999999999999d')).toBeNull();
  });
});

describe('formatDuration', () => {
  it('names the largest unit that divides the duration, so a policy duration reads back as written', () => {
    expect([8_000, 90_000, 120_000, 7_200_000, 86_400_000].map(formatDuration)).toEqual(['8s', '90s', '2m', '2h', '1d']);
  });
});
