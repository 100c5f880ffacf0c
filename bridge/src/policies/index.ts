export { approverRoles, escalationTargets, isEligible, knownApprovers, managerOf } from './approvers.js';
export type { EscalationTargets, Voter } from './approvers.js';
export type { Condition } from './condition.js';
export { dueAt, escalationDue, nextReminderAt, slaWarningAt } from './deadline.js';
export type { DueEscalation } from './deadline.js';
export { parseDuration } from './duration.js';
export type { FormField } from './form.js';
export { parsePolicies, PolicyError, PolicyFile } from './load.js';
export type { PolicySet, ReloadResult } from './load.js';
export { selectPolicy } from './match.js';
export type { PolicyRequest } from './match.js';
export { checkVote, evaluateLevel, isRejecting } from './rules.js';
export type { GroupTally, LevelContext, LevelStatus, LevelTally, LevelVote, Tally, VoteCheck, VoteInput, VoteRefusal } from './rules.js';
export { AIRFLOW_ROLES, isParallel } from './schema.js';
export type {
  AirflowRole,
  ApproverGroup,
  ApproverRef,
  DeadlineAction,
  EscalationStep,
  Glob,
  Level,
  ParallelLevel,
  Policy,
  PolicyMatch,
  RejectMode,
  Rule,
} from './schema.js';
