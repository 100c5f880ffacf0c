import { type Contract, errors, json, requiredBody } from '../http/contract.js';
import { personOf, scopeOf, tokenOf } from '../http/auth.js';
import { parse } from '../http/errors.js';
import type { PolicyDryRuns } from './dry-run.js';
import { DryRunRequest, PolicyCheck, PolicyCheckRequest, PolicyDryRun } from './schemas.js';

/** People's policy routes: preview who would decide a request, and check a policies file before it is deployed. */
export function policyRoutes(contract: Contract, dryRuns: PolicyDryRuns): void {
  contract.add(
    {
      method: 'post',
      path: '/api/v1/policies/dry-run',
      auth: 'person',
      summary: 'Policy preview: who would have to approve this task, by when, through which channels, and whether the quorum can be met, before a run is triggered',
      request: { body: requiredBody('application/json', DryRunRequest) },
      responses: { 200: json(PolicyDryRun, 'The dry-run under the policies in force now'), ...errors(400, 401, 404, 503) },
    },
    async (req, res) => {
      const body = parse(DryRunRequest, req.body ?? {}, 'body');
      res.json(PolicyDryRun.parse(await dryRuns.forPerson(personOf(req), scopeOf(req), tokenOf(req), body)));
    },
  );

  contract.add(
    {
      method: 'post',
      path: '/api/v1/policies/check',
      auth: 'person',
      summary: 'Validate the text of a policies file and dry-run approval tasks against it (Airflow is not asked; nothing is changed)',
      request: { body: requiredBody('application/json', PolicyCheckRequest) },
      responses: { 200: json(PolicyCheck, 'Whether the file is valid, and each approval task dry-run against it'), ...errors(400, 401, 413) },
    },
    async (req, res) => {
      const body = parse(PolicyCheckRequest, req.body ?? {}, 'body');
      res.json(PolicyCheck.parse(dryRuns.check(personOf(req), body.policies, body.source, body.approvals)));
    },
  );
}
