import { describe, expect, it } from 'vitest';
import { compileCondition } from './condition.js';

describe('compileCondition', () => {
  it('accepts filtrex operators and functions, and strings that look like calls', () => {
    const condition = compileCondition('region in ("eu", "us") and not (abs(amount) < 10) and note != "call(me)"');
    expect(condition.evaluate({ region: 'eu', amount: -20, note: '' })).toEqual({ ok: true, match: true });
    expect(condition.evaluate({ region: 'apac', amount: -20, note: '' })).toEqual({ ok: true, match: false });
    expect(compileCondition('if exists(limit) then amount > limit else amount > 100').evaluate({ amount: 150 })).toEqual({ ok: true, match: true });
  });

  it('refuses a malformed expression or an unknown function at compile time', () => {
    expect(() => compileCondition('amount >')).toThrow(/^invalid expression: Parse error/);
    expect(() => compileCondition('size(items) > 1')).toThrow('invalid expression: unknown function size()');
  });

  it('compares numeric strings as numbers, and reports a value it cannot compare instead of answering no', () => {
    const large = compileCondition('amount >= 10000');
    expect(large.evaluate({ amount: '15000' })).toEqual({ ok: true, match: true });
    expect(large.evaluate({ amount: ' 9999.5 ' })).toEqual({ ok: true, match: false });
    expect(compileCondition('payment.amount >= 10000').evaluate({ payment: { amount: '20000' } })).toEqual({ ok: true, match: true });
    for (const values of [{}, { amount: 'a lot' }, { amount: null }, { amount: true }]) {
      const result = large.evaluate(values);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error).toMatch(/^amount >= 10000: Expected a number/);
    }
  });
});
