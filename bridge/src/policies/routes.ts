import { Router } from 'express';
import { personOf, scopeOf, tokenOf } from '../http/auth.js';
import { parse } from '../http/errors.js';
import type { PolicyDryRuns } from './dry-run.js';
import { DryRunRequest, PolicyCheck, PolicyCheckRequest, PolicyDryRun } from './schemas.js';

/** People's policy routes: preview who would decide a request, and check a policies file before it is deployed. */
export function policyRoutes(dryRuns: PolicyDryRuns): Router {
  const router = Router();

  router.post('/dry-run', async (req, res) => {
    const body = parse(DryRunRequest, req.body ?? {}, 'body');
    res.json(PolicyDryRun.parse(await dryRuns.forPerson(personOf(req), scopeOf(req), tokenOf(req), body)));
  });

  router.post('/check', async (req, res) => {
    const body = parse(PolicyCheckRequest, req.body ?? {}, 'body');
    res.json(PolicyCheck.parse(dryRuns.check(personOf(req), body.policies, body.source, body.approvals)));
  });

  return router;
}
