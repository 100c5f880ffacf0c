import { approvalsHandlers } from './approvals';

export const handlers = [...approvalsHandlers];
