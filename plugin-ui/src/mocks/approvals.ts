import type { Approval } from '../api/client';

const HOUR = 3_600_000;

// What the bridge's policy would say each option means; fixtures with other options name theirs.
const outcomes = (options: readonly string[]): Approval['option_outcomes'] =>
  options.map((option) => ({ option, outcome: /^(reject|deny|decline|no)$/i.test(option) ? 'reject' : 'approve' }));

const pendingApproval = (fields: Partial<Approval>): Approval => ({
  option_outcomes: outcomes(fields.options ?? ['Approve', 'Reject']),
  policy_error: null,
  warnings: [],
  timeout_at: null,
  id: 'approval',
  dag_id: 'dag',
  run_id: 'run',
  task_id: 'task',
  map_index: -1,
  subject: 'subject',
  body: null,
  options: ['Approve', 'Reject'],
  params: {},
  content_digest: `sha256:${'c0'.repeat(32)}`,
  state: 'pending',
  policy: 'default',
  level: 1,
  requester: 'carol',
  votes: [],
  created_at: '2025-11-25T09:00:00.000Z',
  due_at: null,
  decided_at: null,
  outcome: null,
  progress: { levels: 1, level_name: 'approver', needed: 1, approvals: 0, rejections: 0 },
  external: false,
  break_glass: false,
  bypass: null,
  review_of: null,
  claim: null,
  delegations: [],
  ...fields,
});

// Deadlines are relative to the moment the fixtures are (re)built, so countdowns read the same in every test.
const fromNow = (ms: number) => new Date(Date.now() + ms).toISOString();

const build = () => {
  const release = pendingApproval({
    id: 'apr-release',
    dag_id: 'deploy_prod',
    run_id: 'manual__2025-11-25T09:00:00+00:00',
    task_id: 'approve_release',
    subject: 'Release 2.4 to production',
    body: 'Ships **payments v2**.\n\n- migrates the ledger\n- [changelog](https://example.com/changelog)',
    policy: 'prod_release',
    level: 2,
    break_glass: true,
    due_at: fromNow(30 * 60_000),
    params: {
      batch: {
        value: 10,
        schema: { type: 'integer', minimum: 1, maximum: 100 },
        description: 'Rows per batch',
      },
      window: { value: null, schema: { type: 'string', enum: ['night', 'weekend'] }, description: null },
      note: { value: null, schema: { type: ['null', 'string'] } },
    },
    progress: { levels: 3, level_name: 'release managers', needed: 2, approvals: 1, rejections: 0 },
    votes: [
      {
        user: 'dave',
        role: 'op',
        option: 'Approve',
        reason: 'Tests green',
        channel: 'slack',
        at: '2025-11-25T09:10:00.000Z',
        level: 1,
        replaced: false,
        on_behalf_of: null,
        params_input: null,
        content_digest: `sha256:${'c0'.repeat(32)}`,
      },
    ],
  });

  const backfill = pendingApproval({
    id: 'apr-backfill',
    dag_id: 'nightly_etl',
    run_id: 'scheduled__2025-11-24T00:00:00+00:00',
    task_id: 'confirm_backfill',
    subject: 'Backfill November',
    policy: 'two_of_data_team',
    requester: 'bob',
    due_at: fromNow(5 * HOUR),
    votes: [
      {
        user: 'bob',
        role: 'user',
        option: 'Approve',
        reason: 'Numbers match',
        channel: 'slack',
        at: '2025-11-25T09:30:00.000Z',
        level: 1,
        replaced: false,
        on_behalf_of: null,
        params_input: null,
        content_digest: `sha256:${'c0'.repeat(32)}`,
      },
    ],
    progress: { levels: 1, level_name: 'data team', needed: 2, approvals: 1, rejections: 0 },
  });

  const purge = pendingApproval({
    id: 'apr-purge',
    dag_id: backfill.dag_id,
    run_id: backfill.run_id,
    task_id: 'confirm_purge',
    subject: 'Purge staging tables',
    options: ['Purge', 'Keep'],
    requester: 'alice',
    due_at: fromNow(-10 * 60_000),
  });

  const decided = pendingApproval({
    id: 'apr-decided',
    dag_id: 'deploy_prod',
    run_id: 'manual__2025-11-20T09:00:00+00:00',
    task_id: 'approve_release',
    subject: 'Release 2.3 to production',
    state: 'rejected',
    decided_at: '2025-11-20T10:00:00.000Z',
    outcome: { option: 'Reject', params_input: {} },
    votes: [
      {
        user: 'erin',
        role: 'op',
        option: 'Reject',
        reason: 'Failing smoke tests',
        channel: 'ui',
        at: '2025-11-20T10:00:00.000Z',
        level: 1,
        replaced: false,
        on_behalf_of: null,
        params_input: null,
        content_digest: `sha256:${'c0'.repeat(32)}`,
      },
    ],
  });

  return { release, backfill, purge, decided };
};

export let fixtures = build();

// The bridge's approvals as the handlers see them; tests start each time from the same four.
let approvals: Approval[] = [];

export const resetApprovals = () => {
  fixtures = build();
  approvals = structuredClone(Object.values(fixtures));
};

export const allApprovals = (): readonly Approval[] => approvals;

export const addApproval = (approval: Approval) => {
  approvals = [...approvals, approval];
};

export const replaceApproval = (approval: Approval) => {
  approvals = approvals.map((stored) => (stored.id === approval.id ? approval : stored));
};

/** Adds `count` pending approvals, as a busy bridge would list them. */
export const seedPending = (count: number) => {
  approvals = [
    ...approvals,
    ...Array.from({ length: count }, (_, index) =>
      pendingApproval({
        id: `apr-bulk-${index}`,
        dag_id: `bulk_dag_${index % 50}`,
        run_id: `manual__bulk_${index}`,
        task_id: 'approve',
        subject: `Bulk approval ${index}`,
        due_at: fromNow((index + 2) * HOUR),
      }),
    ),
  ];
};

/** Adds flagged posts of a moderation run, Keep or Remove each; bob is reviewing the second. */
export const seedModeration = () => {
  const post = (n: number, fields: Partial<Approval> = {}) =>
    pendingApproval({
      id: `mod-${n}`,
      dag_id: 'content_moderation',
      run_id: 'manual__moderation',
      task_id: 'review_routine',
      map_index: n - 1,
      subject: `Post ${n}`,
      body: `> text of post ${n}\n\n**Score ${n + 2}.00**`,
      policy: 'content-moderation',
      options: ['Keep', 'Remove'],
      option_outcomes: [
        { option: 'Keep', outcome: 'approve' },
        { option: 'Remove', outcome: 'reject' },
      ],
      ...fields,
    });
  approvals = [
    ...approvals,
    post(1),
    post(2, { claim: { by: 'bob', until: fromNow(HOUR) } }),
    post(3),
    post(4),
  ];
};

resetApprovals();
