import { type Contract, errors, json, requiredBody } from '../../http/contract.js';
import { personOf, scopeOf } from '../../http/auth.js';
import { parse } from '../../http/errors.js';
import { PolicyDecision, PolicyOverview, PolicyVersion, PolicyVersionList, PolicyVersionListQuery, PolicyVersionParam, ProposePolicyChange } from './schemas.js';
import type { PolicyChanges } from './service.js';

/** Four-eyes on the policies: what is in force, what waits, and proposing and deciding changes. */
export function policyChangeRoutes(contract: Contract, changes: PolicyChanges): void {
  contract.add(
    {
      method: 'get',
      path: '/api/v1/policies',
      auth: 'person',
      summary: 'The policies in force (the version approved last) and the changes waiting for approval, with their diffs',
      responses: { 200: json(PolicyOverview, 'In force and pending'), ...errors(401) },
    },
    async (_req, res) => {
      res.json(PolicyOverview.parse(await changes.overview()));
    },
  );

  contract.add(
    {
      method: 'get',
      path: '/api/v1/policies/changes',
      auth: 'person',
      summary: 'Every policy version proposed, newest first (pending ones oldest first)',
      request: { query: PolicyVersionListQuery },
      responses: { 200: json(PolicyVersionList, 'Policy versions'), ...errors(400, 401) },
    },
    async (req, res) => {
      res.json(PolicyVersionList.parse({ items: await changes.list(parse(PolicyVersionListQuery, req.query, 'query')) }));
    },
  );

  contract.add(
    {
      method: 'get',
      path: '/api/v1/policies/changes/{version}',
      auth: 'person',
      summary: 'One policy version, with its diff against the version it was proposed over',
      request: { params: PolicyVersionParam },
      responses: { 200: json(PolicyVersion, 'The version'), ...errors(400, 401, 404) },
    },
    async (req, res) => {
      const { version } = parse(PolicyVersionParam, req.params, 'version');
      res.json(PolicyVersion.parse(await changes.get(version)));
    },
  );

  contract.add(
    {
      method: 'post',
      path: '/api/v1/policies/changes',
      auth: 'person',
      summary: 'Propose a new policies file as the signed-in person; it takes effect once an admin other than them approves it',
      request: { body: requiredBody('application/json', ProposePolicyChange) },
      responses: { 201: json(PolicyVersion, 'Proposed, pending'), ...errors(400, 401, 409, 413, 422) },
    },
    async (req, res) => {
      const change = parse(ProposePolicyChange, req.body ?? {}, 'body');
      res.status(201).json(PolicyVersion.parse(await changes.propose(personOf(req), change)));
    },
  );

  for (const verb of ['approve', 'reject'] as const) {
    contract.add(
      {
        method: 'post',
        path: `/api/v1/policies/changes/{version}/${verb}`,
        auth: 'person',
        summary:
          verb === 'approve'
            ? 'Approve a pending policy change: an Airflow admin who did not propose it; it is in force at once, on every replica within the poll interval'
            : 'Reject a pending policy change, with a reason (an Airflow admin)',
        request: { params: PolicyVersionParam, body: requiredBody('application/json', PolicyDecision) },
        responses: { 200: json(PolicyVersion, 'The decided version'), ...errors(400, 401, 403, 404, 409, 422) },
      },
      async (req, res) => {
        const { version } = parse(PolicyVersionParam, req.params, 'version');
        const decision = parse(PolicyDecision, req.body ?? {}, 'body');
        const decide = verb === 'approve' ? changes.approve.bind(changes) : changes.reject.bind(changes);
        res.json(PolicyVersion.parse(await decide(version, personOf(req), scopeOf(req), decision)));
      },
    );
  }
}
