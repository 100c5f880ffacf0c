import { describe, expect, it } from 'vitest';
import { dueAt, escalationDue, nextReminderAt, slaWarningAt } from './deadline.js';
import { parsePolicies } from './load.js';
import type { Policy } from './schema.js';

function policy(timing: object): Policy {
  const policies = [{ name: 'p', levels: [{ name: 'l', approvers: ['user:admin'] }], ...timing }];
  return parsePolicies(JSON.stringify({ version: 1, groups: { leads: ['carol'] }, policies })).policies[0]!;
}

const created = new Date('2026-01-05T09:00:00Z');
const at = (iso: string) => new Date(`2026-01-05T${iso}Z`);

const timed = policy({
  deadline: { after: '8h', action: 'reject' },
  sla: { warn_before: '1h' },
  reminders: { every: '3h' },
  escalation: [
    { after: '2h', to: ['group:leads'] },
    { after: '4h', to: ['manager'] },
  ],
});
const untimed = policy({});

describe('deadline', () => {
  it('is due after deadline.after, with the SLA warning before it', () => {
    expect(dueAt(timed, created)).toEqual(at('17:00:00'));
    expect(slaWarningAt(timed, created)).toEqual(at('16:00:00'));
    expect(dueAt(untimed, created)).toBeNull();
    expect(slaWarningAt(untimed, created)).toBeNull();
  });
});

describe('nextReminderAt', () => {
  it('falls every `every` from creation, strictly after now', () => {
    expect(nextReminderAt(timed, created, created)).toEqual(at('12:00:00'));
    expect(nextReminderAt(timed, created, at('11:59:59'))).toEqual(at('12:00:00'));
    expect(nextReminderAt(timed, created, at('12:00:00'))).toEqual(at('15:00:00'));
  });

  it('stops before the deadline, and without reminders there are none', () => {
    expect(nextReminderAt(timed, created, at('15:00:00'))).toBeNull();
    expect(nextReminderAt(untimed, created, created)).toBeNull();
  });

  it('continues without end when there is no deadline', () => {
    expect(nextReminderAt(policy({ reminders: { every: '1d' } }), created, new Date('2026-03-01T00:00:00Z'))).toEqual(
      new Date('2026-03-01T09:00:00Z'),
    );
  });
});

describe('escalationDue', () => {
  it('lists the steps whose time has come, in order, with their index', () => {
    expect(escalationDue(timed, created, at('10:59:59'))).toEqual([]);
    expect(escalationDue(timed, created, at('11:00:00')).map((due) => [due.index, due.at])).toEqual([[0, at('11:00:00')]]);
    const both = escalationDue(timed, created, at('20:00:00'));
    expect(both.map((due) => due.index)).toEqual([0, 1]);
    expect(both[1]!.step.to).toEqual([{ kind: 'manager' }]);
    expect(escalationDue(untimed, created, at('20:00:00'))).toEqual([]);
  });
});
