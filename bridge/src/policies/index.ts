export { approverRoles, escalationTargets, isEligible, knownApprovers, managerOf } from './approvers.js';
export type { EscalationTargets, Voter } from './approvers.js';
export type { Condition } from './condition.js';
export { dueAt, escalationDue, nextReminderAt, slaWarningAt } from './deadline.js';
export type { DueEscalation } from './deadline.js';
export { formatDuration, parseDuration } from './duration.js';
export type { FormField } from './form.js';
export { parsePolicies, PolicyError, PolicyFile } from './load.js';
export type { PolicySet, ReloadResult } from './load.js';
export { meaningOf, optionOutcomes, resolvePolicy, selectPolicy } from './match.js';
export type { PolicyRequest, PolicyResolution } from './match.js';
export { checkDelegatedVote, checkVote, choiceOf, evaluateLevel, isRejecting, levelContextOf, mayDecide, reasonRequired, requestersOf } from './rules.js';
export type { GroupTally, JudgedApproval, LevelContext, LevelStatus, LevelTally, LevelVote, Tally, VoteCheck, VoteInput, VoteRefusal } from './rules.js';
export { AIRFLOW_ROLES, OPTION_OUTCOMES, REVIEW_OPTIONS, defaultOutcome, isParallel, reviewPolicy } from './schema.js';
export type {
  AirflowRole,
  ApproverGroup,
  ApproverRef,
  BreakGlass,
  DeadlineAction,
  EscalationStep,
  FileDelegation,
  Glob,
  InputRule,
  Level,
  OptionOutcome,
  ParallelLevel,
  Policy,
  PolicyMatch,
  RejectMode,
  RequesterRef,
  Rule,
} from './schema.js';
