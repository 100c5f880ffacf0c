import { type PolicySet, parsePolicies } from './load.js';

// Used when no policies file is configured: one approver with an Airflow role of user or above, never the requester.
const DEFAULT_POLICIES = `version: 1
policies:
  - name: default
    self_approval: false
    reason: on_reject
    levels:
      - name: approver
        approvers: [role:admin, role:op, role:user]
        rule: any
`;

export const defaultPolicies = (): PolicySet => parsePolicies(DEFAULT_POLICIES, 'built-in default policies');
