import { Router } from 'express';
import { personOf, tokenOf } from '../http/auth.js';
import { parse } from '../http/errors.js';
import { ActionConfirmation, ActionRequest, ActionResult, ConfirmActionRequest } from './schemas.js';
import type { ActionService } from './service.js';

export function actionRoutes(service: ActionService): Router {
  const router = Router();
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
