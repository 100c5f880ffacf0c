import type { Approval, ApprovalsQuery } from '../../api/client';

export type View = 'mine' | 'pending' | 'decided';
export type Sort = 'soonest' | 'latest';

// The bridge lists one state at a time, so "decided" reads every state and leaves the pending ones out.
export const serverFilter = (view: View, dagId: string): Omit<ApprovalsQuery, 'cursor' | 'limit'> => ({
  state: view === 'decided' ? 'all' : 'pending',
  ...(view === 'mine' ? { mine: 'true' } : {}),
  ...(dagId === '' ? {} : { dag_id: dagId }),
});

const matches = (approval: Approval, words: readonly string[]) => {
  const text = `${approval.dag_id} ${approval.task_id} ${approval.subject} ${approval.run_id}`.toLowerCase();
  return words.every((word) => text.includes(word));
};

// Without a deadline an approval waits for ever, so it sorts after every dated one.
const dueTime = (approval: Approval) =>
  approval.due_at === null ? Number.POSITIVE_INFINITY : Date.parse(approval.due_at);

/** Search and sort over the approvals loaded so far. */
export const visibleApprovals = (
  approvals: readonly Approval[],
  { view, search, sort }: { readonly view: View; readonly search: string; readonly sort: Sort },
): Approval[] => {
  const words = search.toLowerCase().split(/\s+/).filter(Boolean);
  const shown = approvals.filter(
    (approval) => (view !== 'decided' || approval.state !== 'pending') && matches(approval, words),
  );
  const direction = sort === 'soonest' ? 1 : -1;
  return shown.sort((a, b) => {
    const [dueA, dueB] = [dueTime(a), dueTime(b)];
    if (dueA === dueB) {
      return a.created_at.localeCompare(b.created_at);
    }
    // Undated ones stay last either way.
    if (!Number.isFinite(dueA) || !Number.isFinite(dueB)) {
      return Number.isFinite(dueA) ? -1 : 1;
    }
    return (dueA - dueB) * direction;
  });
};
