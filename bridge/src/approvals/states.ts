import { z } from '../zod.js';

/** `bypassed`: Airflow resumed or ended the task without the bridge's decision (someone marked it in Airflow). */
export const approvalStates = ['pending', 'approved', 'rejected', 'expired', 'cancelled', 'bypassed'] as const;
export const ApprovalState = z.enum(approvalStates).openapi('ApprovalState');
export type ApprovalState = z.infer<typeof ApprovalState>;
