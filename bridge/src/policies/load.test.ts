import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parsePolicies, PolicyError, PolicyFile, type ReloadResult } from './load.js';
import { isParallel } from './schema.js';

const exampleText = readFileSync(new URL('../../examples/policies.yaml', import.meta.url), 'utf8');

/** The PolicyError message for `text`, or a failure when it parses. */
function problem(text: string): string {
  try {
    parsePolicies(text);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    return (err as PolicyError).message;
  }
  throw new Error('expected a PolicyError');
}

describe('parsePolicies', () => {
  it('parses the example file, covering every feature', () => {
    const set = parsePolicies(exampleText);
    expect(set.version).toMatch(/^[0-9a-f]{12}$/);
    expect(set.policies.map((policy) => policy.name)).toEqual([
      'large-payments',
      'multi-level-two-of-three',
      'release-with-sign-off',
      'escalating',
      'default',
    ]);
    expect(set.groups.get('data-stewards')).toEqual(['alice', 'bob', 'carol']);
    expect(set.managers.get('alice')).toBe('carol');
    expect(set.absent.has('dave')).toBe(true);
    const release = set.policies[2]!;
    expect(release.levels.map(isParallel)).toEqual([false, true]);
    expect(release.sla?.warn_before).toBe(12 * 3_600_000);
    expect(set.policies[3]!.deadline?.action).toEqual({ option: 'Defer' });
    expect(set.options.get('Hold')).toBe('reject');
    expect(set.policies[3]!.options.get('Defer')).toBe('reject');
    expect(set.policies[0]!.input).toEqual({ agree: ['approved_amount', 'cost_center'] });
    expect(set.policies[0]!.unattended_requester).toEqual([{ kind: 'owners' }, { kind: 'group', name: 'finance' }]);
    expect(set.policies[0]!.form.map((field) => [field.name, field.required])).toEqual([
      ['approved_amount', true],
      ['cost_center', true],
      ['note', false],
    ]);
  });

  it('fills the defaults: no self-approval, reason on reject, any rejection rejects, rule any', () => {
    const set = parsePolicies('version: 1\npolicies:\n  - name: p\n    levels:\n      - { name: l, approvers: [user:alice] }\n');
    const policy = set.policies[0]!;
    expect(policy).toMatchObject({ self_approval: false, reason: 'on_reject', reject: 'any', form: [] });
    expect(policy.levels[0]).toEqual({ name: 'l', approvers: [{ kind: 'user', name: 'alice' }], rule: 'any' });
  });

  it('refuses an alias bomb as a problem of the file', () => {
    const nine = (ref: string) => `[${Array(9).fill(ref).join(', ')}]`;
    const bomb = `a: &a ${nine('x')}\nb: &b ${nine('*a')}\nc: &c ${nine('*b')}\nd: &d ${nine('*c')}\ne: ${nine('*d')}\n`;
    expect(problem(bomb)).toMatch(/^policies\.yaml:1:1: Excessive alias count/);
  });

  it('versions a set by the hash of its text', () => {
    const text = 'version: 1\npolicies:\n  - name: p\n    levels:\n      - { name: l, approvers: [user:alice] }\n';
    expect(parsePolicies(text).version).toBe(parsePolicies(text).version);
    expect(parsePolicies(`${text}# edited\n`).version).not.toBe(parsePolicies(text).version);
  });

  describe('reports the first problem with file:line:column and path', () => {
    it('an option without an outcome, where the file names it', () => {
      const head = ['version: 1', 'policies:', '  - name: p', '    levels:', '      - { name: l, approvers: [user:alice] }'];
      expect(problem([...head, '    deadline: { after: 1h, action: { option: Defer } }'].join('\n'))).toBe(
        'policies.yaml:6:46: policies[0].deadline.action.option: "Defer" is neither approve nor reject: give it an outcome under options',
      );
      expect(problem([...head, '    options:', '      Defer: {}'].join('\n'))).toBe('policies.yaml:7:14: policies[0].options.Defer.outcome: expected approve | reject');
      expect(problem(['version: 1', 'options:', '  Defer: { outcome: later }', ...head.slice(1)].join('\n'))).toMatch(
        /^policies\.yaml:3:21: options\.Defer\.outcome: expected approve \| reject/,
      );
      // Given an outcome (here by the file), the deadline may answer with it.
      expect(() => parsePolicies(['version: 1', 'options:', '  Defer: { outcome: reject }', ...head.slice(1), '    deadline: { after: 1h, action: { option: Defer } }'].join('\n'))).not.toThrow();
    });

    it('an unknown group among who counts as requester of an unattended run', () => {
      const text = ['version: 1', 'policies:', '  - name: p', '    unattended_requester: [owners, group:ops]', '    levels:', '      - { name: l, approvers: [user:alice] }'].join('\n');
      expect(problem(text)).toBe('policies.yaml:4:36: policies[0].unattended_requester[1]: unknown group "ops"');
      expect(problem(text.replace('group:ops', 'role:op'))).toMatch(/^policies\.yaml:4:36: policies\[0\]\.unattended_requester\[1\]: expected owners, user:NAME or group:NAME/);
    });

    it('an unknown group among break-glass reviewers, and break_glass without reviewers', () => {
      const head = ['version: 1', 'policies:', '  - name: p', '    levels:', '      - { name: l, approvers: [user:alice] }'];
      expect(problem([...head, '    break_glass: { allowed: [user:bob], reviewers: [group:security] }'].join('\n'))).toBe(
        'policies.yaml:6:53: policies[0].break_glass.reviewers[0]: unknown group "security"',
      );
      expect(problem([...head, '    break_glass: { allowed: [user:bob] }'].join('\n'))).toMatch(/^policies\.yaml:6:\d+: policies\[0\]\.break_glass\.reviewers: /);
    });

    it('an unknown group', () => {
      const text = [
        'version: 1',
        'groups:',
        '  stewards: [alice]',
        'policies:',
        '  - name: p',
        '    levels:',
        '      - name: l',
        '        approvers: [group:stewards, group:legal]',
      ].join('\n');
      expect(problem(text)).toBe('policies.yaml:8:37: policies[0].levels[0].approvers[1]: unknown group "legal"');
    });

    it('an unknown group in a parallel group and in an escalation step', () => {
      const text = [
        'version: 1',
        'policies:',
        '  - name: p',
        '    levels:',
        '      - name: l',
        '        parallel:',
        '          - { name: legal, approvers: [group:legal] }',
      ].join('\n');
      expect(problem(text)).toBe('policies.yaml:7:40: policies[0].levels[0].parallel[0].approvers[0]: unknown group "legal"');
      const escalation = [
        'version: 1',
        'policies:',
        '  - name: p',
        '    levels: [{ name: l, approvers: [user:alice] }]',
        '    escalation:',
        '      - { after: 1h, to: [group:leads] }',
      ].join('\n');
      expect(problem(escalation)).toBe('policies.yaml:6:27: policies[0].escalation[0].to[0]: unknown group "leads"');
    });

    it('a bad rule', () => {
      const text = ['version: 1', 'policies:', '  - name: p', '    levels:', '      - name: l', '        approvers: [user:alice]', '        rule: most'].join('\n');
      expect(problem(text)).toBe('policies.yaml:7:15: policies[0].levels[0].rule: expected any | majority | unanimous | {n_of: N}');
    });

    it('n_of below 1', () => {
      const text = 'version: 1\npolicies:\n  - name: p\n    levels:\n      - { name: l, approvers: [user:alice], rule: { n_of: 0 } }\n';
      expect(problem(text)).toBe('policies.yaml:5:59: policies[0].levels[0].rule.n_of: n_of must be at least 1');
    });

    it('a bad duration', () => {
      const text = 'version: 1\npolicies:\n  - name: p\n    levels: [{ name: l, approvers: [user:alice] }]\n    deadline: { after: 2 hours, action: reject }\n';
      expect(problem(text)).toBe('policies.yaml:5:24: policies[0].deadline.after: expected a duration like 30s, 15m, 2h, 1d');
    });

    it('an SLA warning not shorter than the deadline', () => {
      const text = [
        'version: 1',
        'policies:',
        '  - name: p',
        '    levels: [{ name: l, approvers: [user:alice] }]',
        '    deadline: { after: 24h, action: reject }',
        '    sla: { warn_before: 1d }',
      ].join('\n');
      expect(problem(text)).toBe('policies.yaml:6:25: policies[0].sla.warn_before: must be shorter than deadline.after');
    });

    it('an SLA without a deadline', () => {
      const text = 'version: 1\npolicies:\n  - name: p\n    levels: [{ name: l, approvers: [user:alice] }]\n    sla: { warn_before: 1h }\n';
      expect(problem(text)).toBe('policies.yaml:5:10: policies[0].sla: an SLA warning needs a deadline to warn before');
    });

    it('duplicate level names, and duplicate group names in a parallel level', () => {
      const levels = 'version: 1\npolicies:\n  - name: p\n    levels:\n      - { name: l, approvers: [user:a] }\n      - { name: l, approvers: [user:b] }\n';
      expect(problem(levels)).toBe('policies.yaml:6:17: policies[0].levels[1].name: duplicate level name in this policy');
      const groups = [
        'version: 1',
        'policies:',
        '  - name: p',
        '    levels:',
        '      - name: l',
        '        parallel:',
        '          - { name: g, approvers: [user:a] }',
        '          - { name: g, approvers: [user:b] }',
      ].join('\n');
      expect(problem(groups)).toBe('policies.yaml:8:21: policies[0].levels[0].parallel[1].name: duplicate group name in this level');
    });

    it('escalation steps out of order', () => {
      const text = [
        'version: 1',
        'policies:',
        '  - name: p',
        '    levels: [{ name: l, approvers: [user:alice] }]',
        '    escalation:',
        '      - { after: 4h, to: [user:bob] }',
        '      - { after: 4h, to: [manager] }',
      ].join('\n');
      expect(problem(text)).toBe('policies.yaml:7:18: policies[0].escalation[1].after: must be later than the previous step');
    });

    it('a manager cycle', () => {
      const text = [
        'version: 1',
        'managers:',
        '  alice: carol',
        '  carol: bob',
        '  bob: alice',
        'policies:',
        '  - name: p',
        '    levels: [{ name: l, approvers: [manager] }]',
      ].join('\n');
      expect(problem(text)).toBe('policies.yaml:3:10: managers.alice: manager cycle: alice → carol → bob → alice');
    });

    it('a `when` that does not compile, or calls an unknown function', () => {
      const text = 'version: 1\npolicies:\n  - name: p\n    match: { when: "amount >=" }\n    levels: [{ name: l, approvers: [user:alice] }]\n';
      expect(problem(text)).toMatch(/^policies\.yaml:4:20: policies\[0\]\.match\.when: invalid expression: Parse error/);
      const unknown = 'version: 1\npolicies:\n  - name: p\n    match: { when: "sqroot(amount) > 3" }\n    levels: [{ name: l, approvers: [user:alice] }]\n';
      expect(problem(unknown)).toBe('policies.yaml:4:20: policies[0].match.when: invalid expression: unknown function sqroot()');
    });

    it('a duplicate policy name', () => {
      const text = [
        'version: 1',
        'policies:',
        '  - name: p',
        '    match: { dag_id: "a_*" }',
        '    levels: [{ name: l, approvers: [user:alice] }]',
        '  - name: p',
        '    levels: [{ name: l, approvers: [user:bob] }]',
      ].join('\n');
      expect(problem(text)).toBe('policies.yaml:6:11: policies[1].name: duplicate policy name (policies[0] has it)');
    });

    it('a policy after a default that takes everything', () => {
      const text = [
        'version: 1',
        'policies:',
        '  - name: default',
        '    levels: [{ name: l, approvers: [user:alice] }]',
        '  - name: specific',
        '    match: { dag_id: "a_*" }',
        '    levels: [{ name: l, approvers: [user:bob] }]',
      ].join('\n');
      expect(problem(text)).toMatch(/^policies\.yaml:5:11: policies\[1\]\.name: never used: policies\[0\] before it/);
    });

    it('a YAML syntax error', () => {
      const text = 'version: 1\npolicies:\n  - name: p\n    levels: [{ name: l, approvers: [user:alice]\n  - name: q\n';
      expect(problem(text)).toBe(
        'policies.yaml:5:3: Flow map in block collection must be sufficiently indented and end with a }',
      );
    });

    it('a misspelt key, at the key', () => {
      const text = 'version: 1\npolicies:\n  - name: p\n    levels:\n      - name: l\n        approvres: [user:alice]\n';
      expect(problem(text)).toBe('policies.yaml:6:9: policies[0].levels[0].approvres: unknown key');
    });

    it('a missing key, at the map that lacks it', () => {
      const text = 'version: 1\npolicies:\n  - levels: [{ name: l, approvers: [user:alice] }]\n';
      expect(problem(text)).toBe('policies.yaml:3:5: policies[0].name: required');
    });

    it('a level with neither approvers nor parallel groups, or with both', () => {
      const neither = 'version: 1\npolicies:\n  - name: p\n    levels:\n      - name: l\n        rule: any\n';
      expect(problem(neither)).toBe('policies.yaml:5:9: policies[0].levels[0]: a level needs approvers (with a rule) or parallel groups');
      const both = 'version: 1\npolicies:\n  - name: p\n    levels:\n      - name: l\n        approvers: [user:a]\n        parallel: [{ name: g, approvers: [user:b] }]\n';
      expect(problem(both)).toBe('policies.yaml:7:19: policies[0].levels[0].parallel: a level has approvers (and rule) or parallel groups, not both');
    });

    it('an unknown role and a malformed approver', () => {
      const role = 'version: 1\npolicies:\n  - name: p\n    levels: [{ name: l, approvers: [role:owner] }]\n';
      expect(problem(role)).toBe('policies.yaml:4:37: policies[0].levels[0].approvers[0]: unknown role "owner": expected one of admin, op, user, viewer');
      const ref = 'version: 1\npolicies:\n  - name: p\n    levels: [{ name: l, approvers: [alice] }]\n';
      expect(problem(ref)).toBe('policies.yaml:4:37: policies[0].levels[0].approvers[0]: expected user:NAME, group:NAME, role:NAME or manager');
    });

    it('majority over roles alone', () => {
      const text = 'version: 1\npolicies:\n  - name: p\n    levels: [{ name: l, approvers: [role:op], rule: majority }]\n';
      expect(problem(text)).toBe(
        'policies.yaml:4:53: policies[0].levels[0].rule: majority counts the people named by user:, group: and manager; with only roles, use any or {n_of: N}',
      );
    });

    it('a form field schema that does not compile', () => {
      const text = [
        'version: 1',
        'policies:',
        '  - name: p',
        '    form:',
        '      amount: { type: number, minimun: 0 }',
        '    levels: [{ name: l, approvers: [user:alice] }]',
      ].join('\n');
      expect(problem(text)).toBe('policies.yaml:5:15: policies[0].form.amount: invalid field schema: strict mode: unknown keyword: "minimun"');
    });

    it('an empty file and a wrong version', () => {
      expect(problem('')).toBe('policies.yaml:1:1: expected object, received null');
      expect(problem('version: 2\npolicies: []\n')).toBe('policies.yaml:1:10: version: expected version: 1');
    });

    it('names the file it was given', () => {
      expect(() => parsePolicies('version: [', '/etc/airgate/policies.yaml')).toThrow(/^\/etc\/airgate\/policies\.yaml:1:/);
    });
  });
});

describe('PolicyFile', () => {
  const good = 'version: 1\npolicies:\n  - name: p\n    levels: [{ name: l, approvers: [user:alice] }]\n';
  const changed = 'version: 1\npolicies:\n  - name: p\n    levels: [{ name: l, approvers: [user:bob] }]\n';
  let dir: string;
  let path: string;
  let file: PolicyFile;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'airgate-policies-'));
    path = join(dir, 'policies.yaml');
    writeFileSync(path, good);
    file = new PolicyFile(path);
  });
  afterEach(() => {
    file.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('throws on a bad file at start, naming the path', () => {
    writeFileSync(path, 'version: 1\npolicies: nope\n');
    expect(() => file.load()).toThrow(`${path}:2:11: policies: expected array, received string`);
    expect(() => file.current()).toThrow(/has not been loaded/);
  });

  it('keeps the last good set when a reload fails, and changes version on a good one', () => {
    const first = file.load();
    writeFileSync(path, 'version: 1\npolicies:\n  - name: p\n    levels: [{ name: l, approvers: [user:alice], rule: most }]\n');
    const bad = file.reload();
    expect(bad).toEqual({ ok: false, error: expect.stringContaining(`${path}:4:`) });
    expect(file.current()).toBe(first);

    writeFileSync(path, changed);
    const ok = file.reload();
    expect(ok).toEqual({ ok: true, version: file.current().version });
    expect(file.current().version).not.toBe(first.version);
  });

  it('reports a missing file on reload without losing the set', () => {
    const first = file.load();
    rmSync(path);
    expect(file.reload()).toMatchObject({ ok: false, error: expect.stringContaining('ENOENT') });
    expect(file.current()).toBe(first);
  });

  it('watches the file and applies edits without a restart', async () => {
    file.load();
    const results: ReloadResult[] = [];
    file.watch((result) => results.push(result), { interval: 10 });
    writeFileSync(path, changed);
    await vi.waitFor(() => expect(results).toContainEqual({ ok: true, version: parsePolicies(changed, path).version }));
    expect(file.current().policies[0]!.levels[0]).toMatchObject({ approvers: [{ kind: 'user', name: 'bob' }] });
  });

  it('reports a bad edit once while watching, and keeps the set in force', async () => {
    const first = file.load();
    const results: ReloadResult[] = [];
    file.watch((result) => results.push(result), { interval: 10 });
    writeFileSync(path, 'version: 1\npolicies: []\n');
    await vi.waitFor(() => expect(results).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(results).toEqual([{ ok: false, error: `${path}:2:11: policies: list at least one policy` }]);
    expect(file.current()).toBe(first);
  });
});
