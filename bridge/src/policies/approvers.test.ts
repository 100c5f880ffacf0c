import { describe, expect, it } from 'vitest';
import { approverRoles, escalationTargets, isEligible, knownApprovers, managerOf } from './approvers.js';
import { parsePolicies, type PolicySet } from './load.js';
import type { ApproverRef } from './schema.js';

// JSON is YAML, so a set can be written as an object.
function policySet(people: { groups?: object; managers?: object; absent?: string[] }): PolicySet {
  const policies = [{ name: 'p', levels: [{ name: 'l', approvers: ['user:admin'] }] }];
  return parsePolicies(JSON.stringify({ version: 1, ...people, policies }));
}

const set = policySet({
  groups: { stewards: ['alice', 'bob', 'carol'], leads: ['carol', 'admin'] },
  managers: { erin: 'alice', alice: 'carol', carol: 'dave', dave: 'admin' },
  absent: ['dave'],
});
const user = (name: string): ApproverRef => ({ kind: 'user', name });
const group = (name: string): ApproverRef => ({ kind: 'group', name });
const manager: ApproverRef = { kind: 'manager' };
const op: ApproverRef = { kind: 'role', name: 'op' };

describe('managerOf', () => {
  it('is the direct manager when present', () => {
    expect(managerOf(set, 'alice')).toBe('carol');
  });

  it('skips an absent manager (skip-level)', () => {
    expect(managerOf(set, 'carol')).toBe('admin');
  });

  it('skips a manager who is the requester', () => {
    expect(managerOf(set, 'erin', 'alice')).toBe('carol');
    expect(managerOf(set, 'alice', 'carol')).toBe('admin');
  });

  it('is null at the top of the hierarchy or for someone without a manager', () => {
    expect(managerOf(set, 'admin')).toBeNull();
    expect(managerOf(set, 'zoe')).toBeNull();
    expect(managerOf(policySet({ managers: { alice: 'dave' }, absent: ['dave'] }), 'alice')).toBeNull();
  });
});

describe('knownApprovers', () => {
  it('lists the people named by user:, group: and manager once each, without roles', () => {
    expect(knownApprovers(set, [user('bob'), group('stewards'), manager, op], 'erin')).toEqual(['bob', 'alice', 'carol']);
    expect(approverRoles([user('bob'), op, op, { kind: 'role', name: 'admin' }])).toEqual(['op', 'admin']);
  });

  it('resolves manager to nobody when nobody requested the run', () => {
    expect(knownApprovers(set, [manager], null)).toEqual([]);
  });
});

describe('isEligible', () => {
  const refs = [user('heidi'), group('stewards'), op, manager];

  it('admits a named user, a group member, a role holder and the requester’s manager', () => {
    expect(isEligible(set, refs, { user: 'heidi', role: null }, null)).toBe(true);
    expect(isEligible(set, refs, { user: 'bob', role: 'viewer' }, null)).toBe(true);
    expect(isEligible(set, refs, { user: 'ivan', role: 'op' }, null)).toBe(true);
    expect(isEligible(set, refs, { user: 'ivan', role: 'OP' }, null)).toBe(true);
    expect(isEligible(set, [manager], { user: 'alice', role: null }, 'erin')).toBe(true);
  });

  it('refuses anyone else, including a higher role than the one named', () => {
    expect(isEligible(set, refs, { user: 'ivan', role: 'admin' }, null)).toBe(false);
    expect(isEligible(set, refs, { user: 'ivan', role: null }, null)).toBe(false);
    expect(isEligible(set, [manager], { user: 'carol', role: null }, 'erin')).toBe(false);
  });

  it('follows the set in force, so editing a group changes who may approve a pending approval', () => {
    const edited = policySet({ groups: { stewards: ['alice', 'ivan'], leads: [] } });
    expect(isEligible(set, [group('stewards')], { user: 'bob', role: null }, null)).toBe(true);
    expect(isEligible(edited, [group('stewards')], { user: 'bob', role: null }, null)).toBe(false);
    expect(isEligible(edited, [group('stewards')], { user: 'ivan', role: null }, null)).toBe(true);
  });
});

describe('escalationTargets', () => {
  it('resolves a step like approvers: people, the requester’s manager and roles', () => {
    const step = { after: 3_600_000, to: [group('leads'), manager, op] };
    expect(escalationTargets(set, step, 'alice')).toEqual({ users: ['carol', 'admin'], roles: ['op'] });
    expect(escalationTargets(set, { after: 1, to: [manager] }, 'carol')).toEqual({ users: ['admin'], roles: [] });
  });
});
