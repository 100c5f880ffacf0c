import type { Approval } from '../api/client';

const pendingApproval = (fields: Partial<Approval>): Approval => ({
  id: 'approval',
  dag_id: 'dag',
  run_id: 'run',
  task_id: 'task',
  map_index: -1,
  subject: 'subject',
  body: null,
  options: ['Approve', 'Reject'],
  params: {},
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
  ...fields,
});

export const release = pendingApproval({
  id: 'apr-release',
  dag_id: 'deploy_prod',
  run_id: 'manual__2025-11-25T09:00:00+00:00',
  task_id: 'approve_release',
  subject: 'Release 2.4 to production',
  body: 'Ships **payments v2**.\n\n- migrates the ledger\n- needs a maintenance window',
});

export const backfill = pendingApproval({
  id: 'apr-backfill',
  dag_id: 'nightly_etl',
  run_id: 'scheduled__2025-11-24T00:00:00+00:00',
  task_id: 'confirm_backfill',
  subject: 'Backfill November',
  policy: 'two_of_data_team',
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
    },
  ],
  progress: { levels: 1, level_name: 'data team', needed: 2, approvals: 1, rejections: 0 },
});

export const purge = pendingApproval({
  id: 'apr-purge',
  dag_id: backfill.dag_id,
  run_id: backfill.run_id,
  task_id: 'confirm_purge',
  subject: 'Purge staging tables',
  options: ['Purge', 'Keep'],
});

// The bridge's approvals as the handlers see them; tests start each time from the same three.
let approvals: Approval[] = [];

export const resetApprovals = () => {
  approvals = structuredClone([release, backfill, purge]);
};

export const allApprovals = (): readonly Approval[] => approvals;

export const replaceApproval = (approval: Approval) => {
  approvals = approvals.map((stored) => (stored.id === approval.id ? approval : stored));
};

resetApprovals();
