import { actionsHandlers } from './actions';
import { approvalsHandlers, escalationsHandlers, receiptHandlers } from './approvals';
import { auditHandlers } from './audit';
import { dryRunHandlers } from './dryRun';
import { delegationsHandlers } from './delegations';
import { messagesHandlers } from './messages';
import { policiesHandlers } from './policies';
import { queueHandlers } from './queue';
import { statsHandlers } from './stats';

// Specific paths before the patterns that would also match them.
export const handlers = [
  ...actionsHandlers,
  ...auditHandlers,
  ...statsHandlers,
  ...delegationsHandlers,
  ...messagesHandlers,
  ...policiesHandlers,
  ...dryRunHandlers,
  ...queueHandlers,
  ...escalationsHandlers,
  ...receiptHandlers,
  ...approvalsHandlers,
];
