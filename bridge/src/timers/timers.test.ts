import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestClock, channelBridge, request as approvalRequest } from '../testing/channel-bridge.js';
import type { Db } from '../store/db.js';
import { databases } from '../testing/databases.js';
import { tokenFor } from '../testing/fake-airflow.js';
import { SqlTimerStore } from './store.js';

const policy = (extra: string) => `version: 1
groups:
  stewards: [alice, bob]
  oncall: [olivia]
managers:
  requester: carol
  carol: dave
  dave: erin
absent: [dave]
options:
  Hold: { outcome: approve }
  Missing: { outcome: reject }
policies:
  - name: timed
${extra}
    levels:
      - { name: stewards, approvers: [group:stewards], rule: any }
`;

const FULL = policy(`    reminders: { every: 30m }
    escalation:
      - { after: 1h, to: [group:oncall] }
      - { after: 2h, to: [manager] }
      - { after: 3h, to: [manager] }
    sla: { warn_before: 30m }
    deadline: { after: 4h, action: reject }`);

const MIN = 60_000;

describe.each(databases)('timers on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  let clock: TestClock;
  let bridges: ReturnType<typeof channelBridge>[];

  const bridge = (policies = FULL) => {
    const b = channelBridge(db, { policies, clock });
    bridges.push(b);
    return b;
  };
  const messages = async (kind: string, approvalId?: string) => {
    let q = db.selectFrom('notification').select(['recipient', 'approval_id', 'created_at']).where('kind', '=', kind);
    if (approvalId) q = q.where('approval_id', '=', approvalId);
    return q.orderBy('created_at').orderBy('recipient').execute();
  };
  const at = async (b: ReturnType<typeof channelBridge>, iso: string) => {
    clock.set(iso);
    await b.settle();
  };
  const audit = async (action: string) =>
    (await db.selectFrom('audit_entry').selectAll().where('action', '=', action).orderBy('seq').execute()).map((e) => JSON.parse(e.details) as Record<string, unknown>);

  beforeEach(async () => {
    ({ db, drop } = await database.create());
    clock = new TestClock(new Date('2026-11-25T10:00:00Z'));
    bridges = [];
  });
  afterEach(async () => {
    for (const b of bridges) await b.channels.stop();
    await drop();
  });

const REMINDERS = policy(`    reminders: { every: 30m }`);

  it('reminds the approvers every 30 minutes until the approval is decided', async () => {
    const b = bridge(REMINDERS);
    const { id } = await b.service.register(approvalRequest, 'test');
    await b.settle();
    expect(await messages('request')).toHaveLength(2);
    await at(b, '2026-11-25T10:29:59Z');
    expect(await messages('reminder')).toEqual([]);
    await at(b, '2026-11-25T10:30:00Z');
    expect((await messages('reminder')).map((m) => m.recipient)).toEqual(['alice', 'bob']);
    await at(b, '2026-11-25T10:45:00Z');
    expect(await messages('reminder')).toHaveLength(2);
    await at(b, '2026-11-25T11:00:00Z');
    expect(await messages('reminder')).toHaveLength(4);
    expect((await audit('timer.reminder')).map((d) => d.next)).toEqual(['2026-11-25T11:00:00.000Z', '2026-11-25T11:30:00.000Z']);
    await b.service.vote(id, { user: 'alice', role: 'user' }, { option: 'Approve' }, { channel: 'ui', idempotencyKey: null });
    await at(b, '2026-11-25T13:00:00Z');
    expect(await messages('reminder')).toHaveLength(4);
    const left = await db.selectFrom('timer').select(['kind', 'state']).where('approval_id', '=', id).where('state', '=', 'pending').execute();
    expect(left).toEqual([]);
  });

  it('escalates step by step, up the manager hierarchy skipping absent managers; the escalated may decide', async () => {
    const b = bridge();
    const { id } = await b.service.register(approvalRequest, 'test');
    await b.settle();
    await at(b, '2026-11-25T11:00:00Z');
    expect((await messages('escalation')).map((m) => m.recipient)).toEqual(['olivia']);
    expect(b.service.canVote(await b.service.get(id), { user: 'olivia', role: 'user' }, [{ level: 1, approver: 'olivia' }])).toBe(true);
    // Reminders now reach the escalated approver too.
    await at(b, '2026-11-25T11:30:00Z');
    expect((await messages('reminder')).slice(-3).map((m) => m.recipient)).toEqual(['alice', 'bob', 'olivia']);
    // Both remaining steps are due by 13:00: carol (requester's manager), then dave's absent so erin.
    await at(b, '2026-11-25T13:00:00Z');
    expect((await messages('escalation')).map((m) => m.recipient)).toEqual(['olivia', 'carol', 'erin']);
    const token = await tokenFor('alice');
    const res = await request(b.app).get(`/api/v1/approvals/${id}/escalations`).set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body.items).toMatchObject([
      { level: 1, step: 0, approver: 'olivia', at: '2026-11-25T11:00:00.000Z', reason: expect.stringContaining('escalation step 1') },
      { level: 1, step: 1, approver: 'carol', at: '2026-11-25T13:00:00.000Z' },
      { level: 1, step: 2, approver: 'erin', at: '2026-11-25T13:00:00.000Z' },
    ]);
    expect((await audit('approval.escalated')).map((d) => d.added)).toEqual([['olivia'], ['carol'], ['erin']]);
    const view = await b.service.vote(id, { user: 'erin', role: 'user' }, { option: 'Approve' }, { channel: 'ui', idempotencyKey: null });
    expect(view.state).toBe('approved');
  });

  it('climbs above the manager the level already asks: each manager step one rung higher, absent ones skipped', async () => {
    const b = bridge(`version: 1
managers:
  requester: carol
  carol: dave
  dave: erin
  erin: frank
absent: [dave]
policies:
  - name: chain
    levels:
      - { name: manager, approvers: [manager], rule: any }
    escalation:
      - { after: 10s, to: [manager] }
      - { after: 20s, to: [manager] }
`);
    const { id } = await b.service.register(approvalRequest, 'test');
    await b.settle();
    expect((await messages('request')).map((m) => m.recipient)).toEqual(['carol']);
    await at(b, '2026-11-25T10:00:20Z');
    const res = await request(b.app).get(`/api/v1/approvals/${id}/escalations`).set('Authorization', `Bearer ${await tokenFor('alice')}`);
    expect(res.body.items).toMatchObject([
      { step: 0, approver: 'erin', reason: 'escalation step 1: undecided 10s after the request' },
      { step: 1, approver: 'frank', reason: 'escalation step 2: undecided 20s after the request' },
    ]);
    // frank, two rungs above the level's manager, decides alone: a skip-level approval.
    const view = await b.service.vote(id, { user: 'frank', role: 'user' }, { option: 'Approve' }, { channel: 'ui', idempotencyKey: null });
    expect(view.state).toBe('approved');
  });

  it('warns before the deadline, reports the breach at it and applies the deadline action', async () => {
    const b = bridge();
    const { id } = await b.service.register(approvalRequest, 'test');
    await at(b, '2026-11-25T13:29:00Z');
    expect(await messages('sla_warning')).toEqual([]);
    await at(b, '2026-11-25T13:30:00Z');
    expect((await messages('sla_warning')).map((m) => m.recipient)).toEqual(['alice', 'bob', 'carol', 'erin', 'olivia']);
    await at(b, '2026-11-25T14:00:00Z');
    expect((await messages('sla_breach')).map((m) => m.recipient)).toEqual(['alice', 'bob', 'carol', 'erin', 'olivia', 'requester']);
    expect(await b.service.get(id)).toMatchObject({ state: 'expired', decided_at: '2026-11-25T14:00:00.000Z', outcome: { option: 'Reject', params_input: {} } });
    const effects = await db.selectFrom('effect').select(['kind', 'payload']).where('approval_id', '=', id).orderBy('id').execute();
    expect(effects.map((e) => e.kind)).toEqual(['answer_hitl', 'task_note']);
    expect(JSON.parse(effects[0]!.payload)).toMatchObject({ chosen_options: ['Reject'] });
    expect((await messages('decided')).map((m) => m.recipient)).toEqual(['requester']);
    expect(await audit('sla.breached')).toMatchObject([{ outcome: { kind: 'answer', option: 'Reject' } }]);
    expect(await audit('approval.deadline')).toHaveLength(1);
    // Reminders stopped before the deadline; nothing fires twice or later.
    const reminders = await messages('reminder');
    expect(reminders.at(-1)?.created_at).toBe('2026-11-25T13:30:00.000Z');
    await at(b, '2026-11-25T18:00:00Z');
    expect(await messages('sla_breach')).toHaveLength(6);
    expect(await messages('reminder')).toHaveLength(reminders.length);
  });

  it.each([
    ['reject', { answer: 'Reject' }],
    ['approve', { answer: 'Approve' }],
    ['{ option: Hold }', { answer: 'Hold' }],
    ['{ option: Missing }', { fail: true }],
    ['fail', { fail: true }],
  ])('deadline action %s', async (action, expected) => {
    const b = bridge(policy(`    deadline: { after: 1h, action: ${action} }`));
    const { id } = await b.service.register({ ...approvalRequest, options: ['Approve', 'Hold', 'Reject'], params: { rows: { value: 5 } } }, 'test');
    await at(b, '2026-11-25T11:00:00Z');
    const approval = await b.service.get(id);
    const kinds = (await db.selectFrom('effect').select('kind').where('approval_id', '=', id).orderBy('id').execute()).map((e) => e.kind);
    if ('answer' in expected) {
      expect(approval).toMatchObject({ state: 'expired', outcome: { option: expected.answer, params_input: { rows: 5 } } });
      expect(kinds).toEqual(['answer_hitl', 'task_note']);
    } else {
      expect(approval).toMatchObject({ state: 'expired', outcome: null });
      expect(kinds).toEqual(['fail_task', 'task_note']);
    }
  });

  it('deadline action escalate hands the level to the requester manager and keeps it open', async () => {
    const b = bridge(policy(`    deadline: { after: 1h, action: escalate }`));
    const { id } = await b.service.register(approvalRequest, 'test');
    await at(b, '2026-11-25T11:00:00Z');
    expect((await b.service.get(id)).state).toBe('pending');
    expect((await messages('escalation')).map((m) => m.recipient)).toEqual(['carol']);
    expect(await audit('approval.escalated')).toMatchObject([{ step: 'deadline', added: ['carol'] }]);
  });

  it('tells the requester about a decision whose event was lost, once, after the listener had its chance', async () => {
    const b = bridge(REMINDERS);
    const { id } = await b.service.register(approvalRequest, 'test');
    await b.settle();
    // Decided behind the bridge's back, as a crash after commit or a decision Airflow made would leave it.
    await db.updateTable('approval').set({ state: 'rejected', decided_at: '2026-11-25T10:05:00.000Z' }).where('id', '=', id).execute();
    await at(b, '2026-11-25T10:05:30Z');
    expect(await messages('decided', id)).toEqual([]);
    await at(b, '2026-11-25T10:06:01Z');
    expect((await messages('decided', id)).map((m) => m.recipient)).toEqual(['requester']);
    await at(b, '2026-11-25T10:30:00Z');
    expect(await messages('decided', id)).toHaveLength(1);
    expect(await messages('reminder', id)).toEqual([]);
  });

  it('two bridges on one store fire each of 100 approvals reminders once', async () => {
    const one = bridge();
    const two = bridge();
    for (let i = 0; i < 100; i++) await one.service.register({ ...approvalRequest, run_id: `manual__${i}` }, 'test');
    await Promise.all([one.settle(), two.settle()]);
    expect(await messages('request')).toHaveLength(200);
    clock.set('2026-11-25T10:30:00Z');
    await Promise.all([one.channels.timers.kick(), two.channels.timers.kick(), one.channels.timers.kick(), two.channels.timers.kick()]);
    const reminders = await messages('reminder');
    expect(reminders).toHaveLength(200);
    expect(new Set(reminders.map((r) => `${r.approval_id}/${r.recipient}`)).size).toBe(200);
    expect(await audit('timer.reminder')).toHaveLength(100);
  });

  it('a timer claimed by a bridge that died, or due while every bridge was down, fires once after restart', async () => {
    const first = bridge(REMINDERS);
    const { id } = await first.service.register(approvalRequest, 'test');
    await first.settle();
    // A replica claims the 10:30 reminder and dies holding its one-minute lease.
    expect(await new SqlTimerStore(db).claim('dead-replica', new Date('2026-11-25T10:45:00Z'), 60_000, 10)).toMatchObject([{ kind: 'reminder', due_at: '2026-11-25T10:30:00.000Z' }]);
    await first.channels.stop();
    const restarted = bridge(REMINDERS);
    await at(restarted, '2026-11-25T10:45:30Z');
    expect(await messages('reminder', id)).toEqual([]);
    await at(restarted, '2026-11-25T10:46:01Z');
    await restarted.settle();
    expect((await messages('reminder', id)).map((m) => m.recipient)).toEqual(['alice', 'bob']);
    await restarted.channels.stop();
    // Every bridge down across 11:00; the next one to start fires that reminder, once.
    const later = bridge(REMINDERS);
    await at(later, '2026-11-25T11:10:00Z');
    await later.settle();
    expect(await messages('reminder', id)).toHaveLength(4);
    expect((await audit('timer.reminder')).map((d) => d.due_at)).toEqual(['2026-11-25T10:30:00.000Z', '2026-11-25T11:00:00.000Z']);
  });
});
