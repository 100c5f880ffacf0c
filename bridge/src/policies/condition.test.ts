import { describe, expect, it } from 'vitest';
import { compileCondition } from './condition.js';

describe('compileCondition', () => {
  it('accepts filtrex operators and functions, and strings that look like calls', () => {
    const condition = compileCondition('region in ("eu", "us") and not (abs(amount) < 10) and note != "call(me)"');
    expect(condition.test({ region: 'eu', amount: -20, note: '' })).toBe(true);
    expect(condition.test({ region: 'apac', amount: -20, note: '' })).toBe(false);
    expect(compileCondition('if exists(limit) then amount > limit else amount > 100').test({ amount: 150 })).toBe(true);
  });

  it('refuses a malformed expression or an unknown function at compile time', () => {
    expect(() => compileCondition('amount >')).toThrow(/^invalid expression: Parse error/);
    expect(() => compileCondition('size(items) > 1')).toThrow('invalid expression: unknown function size()');
  });
});
