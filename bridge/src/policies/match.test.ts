import { describe, expect, it } from 'vitest';
import { parsePolicies } from './load.js';
import { optionOutcomes, resolvePolicy, selectPolicy, type PolicyRequest } from './match.js';

const set = parsePolicies(
  JSON.stringify({
    version: 1,
    policies: [
      // exists() guards the comparison: without it, a request with no amount could not be evaluated (see below).
      { name: 'payments', match: { when: 'exists(amount) and amount >= 10000' } },
      { name: 'nested', match: { when: 'payment.currency == "EUR"' } },
      { name: 'multi-level', match: { dag_id: '120_01_04_*' } },
      { name: 'finance-approvals', match: { task_id: 'approve_*', tags: ['finance', 'prod'] } },
      { name: 'default' },
    ].map((policy) => ({ ...policy, levels: [{ name: 'l', approvers: ['user:admin'] }] })),
  }),
);

const request = (overrides: Partial<PolicyRequest>): PolicyRequest => ({
  dag_id: 'other',
  task_id: 'wait',
  tags: [],
  values: {},
  options: ['Approve', 'Reject'],
  ...overrides,
});
const chosen = (overrides: Partial<PolicyRequest>) => selectPolicy(set, request(overrides))?.name;

describe('selectPolicy', () => {
  it('matches dag_id by glob', () => {
    expect(chosen({ dag_id: '120_01_04_multi_level' })).toBe('multi-level');
    expect(chosen({ dag_id: '120_01_05_timeout' })).toBe('default');
  });

  it('matches task_id by glob and needs every listed tag', () => {
    expect(chosen({ task_id: 'approve_payment', tags: ['prod', 'finance', 'daily'] })).toBe('finance-approvals');
    expect(chosen({ task_id: 'approve_payment', tags: ['finance'] })).toBe('default');
    expect(chosen({ task_id: 'review', tags: ['finance', 'prod'] })).toBe('default');
  });

  it('matches a `when` condition on the request’s values, dotted into nested ones', () => {
    expect(chosen({ values: { amount: 10000 } })).toBe('payments');
    expect(chosen({ values: { amount: 9999.99 } })).toBe('default');
    expect(chosen({ values: { payment: { currency: 'EUR' } } })).toBe('nested');
  });

  it('fails closed: a condition it cannot evaluate selects no later (laxer) policy, it reports why', () => {
    const strict = parsePolicies(
      JSON.stringify({
        version: 1,
        policies: [
          { name: 'large', match: { dag_id: 'pay_*', when: 'amount >= 10000' }, levels: [{ name: 'l', approvers: ['user:admin'] }] },
          { name: 'lax', levels: [{ name: 'l', approvers: ['role:user'] }] },
        ],
      }),
    );
    for (const values of [{}, { amount: 'a lot' }, { amount: null }]) {
      expect(resolvePolicy(strict, request({ dag_id: 'pay_out', values }))).toEqual({
        policy: null,
        policy_error: expect.stringMatching(/^policy "large": cannot evaluate amount >= 10000: Expected a number, but got a/),
      });
      expect(selectPolicy(strict, request({ dag_id: 'pay_out', values }))).toBeNull();
    }
    // Only a policy whose other criteria match evaluates its condition.
    expect(selectPolicy(strict, request({ dag_id: 'other', values: {} }))?.name).toBe('lax');
    // A numeric string is the number it spells.
    expect(selectPolicy(strict, request({ dag_id: 'pay_out', values: { amount: '25000' } }))?.name).toBe('large');
    expect(selectPolicy(strict, request({ dag_id: 'pay_out', values: { amount: '25' } }))?.name).toBe('lax');
  });

  it('holds a request whose options the chosen policy gives no outcome, naming them', () => {
    const resolved = resolvePolicy(set, request({ options: ['Ship', 'Hold', 'Reject'] }));
    expect(resolved).toEqual({ policy: null, policy_error: 'policy "default" gives no outcome (approve or reject) to "Ship", "Hold": add it under options' });
  });

  it('reads option outcomes from the policy, then the file, then the word', () => {
    const withOptions = parsePolicies(
      JSON.stringify({
        version: 1,
        options: { Ship: { outcome: 'approve' }, Hold: { outcome: 'reject' } },
        policies: [
          { name: 'strict', match: { dag_id: 'strict' }, options: { Ship: { outcome: 'reject' } }, levels: [{ name: 'l', approvers: ['user:admin'] }] },
          { name: 'default', levels: [{ name: 'l', approvers: ['user:admin'] }] },
        ],
      }),
    );
    const options = ['Ship', 'Hold', 'Approve', 'deny'];
    const outcomes = (dag_id: string) => optionOutcomes(withOptions, resolvePolicy(withOptions, request({ dag_id, options })).policy, options).map((o) => o.outcome);
    expect(outcomes('other')).toEqual(['approve', 'reject', 'approve', 'reject']);
    expect(outcomes('strict')).toEqual(['reject', 'reject', 'approve', 'reject']);
  });

  it('takes the first match', () => {
    expect(chosen({ dag_id: '120_01_04_multi_level', values: { amount: 50000 } })).toBe('payments');
  });

  it('is null when no policy matches', () => {
    const narrow = parsePolicies(
      JSON.stringify({ version: 1, policies: [{ name: 'p', match: { dag_id: 'a_*' }, levels: [{ name: 'l', approvers: ['user:admin'] }] }] }),
    );
    expect(selectPolicy(narrow, request({ dag_id: 'b' }))).toBeNull();
  });
});
