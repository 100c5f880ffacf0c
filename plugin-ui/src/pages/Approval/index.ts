export { ApprovalDetail } from './ApprovalDetail';
export { TaskApproval } from './TaskApproval';
