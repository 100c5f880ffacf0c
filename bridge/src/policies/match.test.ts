import { describe, expect, it } from 'vitest';
import { parsePolicies } from './load.js';
import { selectPolicy, type PolicyRequest } from './match.js';

const set = parsePolicies(
  JSON.stringify({
    version: 1,
    policies: [
      { name: 'payments', match: { when: 'amount >= 10000' } },
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

  it('treats a missing or mistyped value as no match, never an error', () => {
    expect(chosen({ values: {} })).toBe('default');
    expect(chosen({ values: { amount: 'a lot' } })).toBe('default');
    expect(chosen({ values: { payment: null } })).toBe('default');
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
