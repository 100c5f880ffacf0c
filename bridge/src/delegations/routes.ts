import { type Contract, errors, json, requiredBody } from '../http/contract.js';
import { personOf, scopeOf } from '../http/auth.js';
import { parse } from '../http/errors.js';
import { Delegation, DelegationIdParam, DelegationList, DelegationListQuery, DelegationRequest, delegationRequestFor } from './schemas.js';
import type { DelegationService } from './service.js';

/** People's delegations: make one (of their own vote), list what they gave and received, revoke one they gave. */
export function delegationRoutes(contract: Contract, service: DelegationService, now: () => Date): void {
  contract.add(
    {
      method: 'get',
      path: '/api/v1/delegations',
      auth: 'person',
      summary: "The delegations the signed-in person gave and received (everyone's for an admin asking all=true), with the policies file's",
      request: { query: DelegationListQuery },
      responses: { 200: json(DelegationList, 'Delegations, newest first'), ...errors(400, 401, 403, 503) },
    },
    async (req, res) => {
      const query = parse(DelegationListQuery, req.query, 'query');
      res.json(DelegationList.parse(await service.list(personOf(req), { all: query.all ?? false, admin: scopeOf(req).admin })));
    },
  );

  contract.add(
    {
      method: 'post',
      path: '/api/v1/delegations',
      auth: 'person',
      summary: "Hand the signed-in person's own vote to a deputy for a period (at most 90 days), optionally for some policies only; audited",
      request: { body: requiredBody('application/json', DelegationRequest) },
      responses: { 201: json(Delegation, 'The delegation'), ...errors(400, 401, 503) },
    },
    async (req, res) => {
      const person = personOf(req);
      const request = parse(delegationRequestFor({ user: person.user, now: now(), policyNames: service.policyNames() }), req.body ?? {}, 'body');
      res.status(201).json(Delegation.parse(await service.create(person, request)));
    },
  );

  contract.add(
    {
      method: 'delete',
      path: '/api/v1/delegations/{id}',
      auth: 'person',
      summary: 'Revoke a delegation the signed-in person gave (one the policies file names is changed there); audited',
      request: { params: DelegationIdParam },
      responses: { 200: json(Delegation, 'The revoked delegation'), ...errors(400, 401, 403, 404, 409, 503) },
    },
    async (req, res) => {
      const { id } = parse(DelegationIdParam, req.params, 'id');
      res.json(Delegation.parse(await service.revoke(personOf(req), id)));
    },
  );
}
