import { Router } from 'express';
import { personOf } from '../http/auth.js';
import { parse, unauthorized } from '../http/errors.js';
import { ActionConfirmation, ActionRequest, ActionResult, ConfirmActionRequest } from './schemas.js';
import type { ActionService } from './service.js';

export function actionRoutes(service: ActionService): Router {
  const router = Router();
  const tokenOf = (req: { personToken?: string }) => {
    if (!req.personToken) throw unauthorized('missing bearer token');
    return req.personToken;
  };

  router.post('/', async (req, res) => {
    const request = parse(ActionRequest, req.body ?? {}, 'body');
    res.status(201).json(ActionConfirmation.parse(await service.prepare(personOf(req), tokenOf(req), request)));
  });

  router.post('/confirm', async (req, res) => {
    const { token } = parse(ConfirmActionRequest, req.body ?? {}, 'body');
    res.json(ActionResult.parse(await service.confirm(personOf(req), tokenOf(req), token)));
  });

  return router;
}
