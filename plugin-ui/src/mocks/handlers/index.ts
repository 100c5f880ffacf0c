import { actionsHandlers } from './actions';
import { approvalsHandlers, escalationsHandlers } from './approvals';
import { auditHandlers } from './audit';
import { delegationsHandlers } from './delegations';
import { messagesHandlers } from './messages';
import { queueHandlers } from './queue';
import { statsHandlers } from './stats';

// Specific paths before the patterns that would also match them.
export const handlers = [
  ...actionsHandlers,
  ...auditHandlers,
  ...statsHandlers,
  ...delegationsHandlers,
  ...messagesHandlers,
  ...queueHandlers,
  ...escalationsHandlers,
  ...approvalsHandlers,
];
