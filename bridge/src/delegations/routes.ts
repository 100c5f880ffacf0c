import { Router } from 'express';
import { personOf, scopeOf } from '../http/auth.js';
import { parse } from '../http/errors.js';
import { Delegation, DelegationIdParam, DelegationList, DelegationListQuery, delegationRequestFor } from './schemas.js';
import type { DelegationService } from './service.js';

/** People's delegations: make one (of their own vote), list what they gave and received, revoke one they gave. */
export function delegationRoutes(service: DelegationService, now: () => Date): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const query = parse(DelegationListQuery, req.query, 'query');
    res.json(DelegationList.parse(await service.list(personOf(req), { all: query.all ?? false, admin: scopeOf(req).admin })));
  });

  router.post('/', async (req, res) => {
    const person = personOf(req);
    const request = parse(delegationRequestFor({ user: person.user, now: now(), policyNames: service.policyNames() }), req.body ?? {}, 'body');
    res.status(201).json(Delegation.parse(await service.create(person, request)));
  });

  router.delete('/:id', async (req, res) => {
    const { id } = parse(DelegationIdParam, req.params, 'id');
    res.json(Delegation.parse(await service.revoke(personOf(req), id)));
  });

  return router;
}
