import { type Contract, errors, json, requiredBody } from '../http/contract.js';
import { personOf, tokenOf } from '../http/auth.js';
import { parse } from '../http/errors.js';
import { ActionConfirmation, ActionRequest, ActionResult, ConfirmActionRequest } from './schemas.js';
import type { ActionService } from './service.js';

export function actionRoutes(contract: Contract, service: ActionService): void {
  contract.add(
    {
      method: 'post',
      path: '/api/v1/actions',
      auth: 'person',
      summary: 'Prepare an Airflow action: returns what it will do and a short-lived confirmation token',
      request: { body: requiredBody('application/json', ActionRequest) },
      responses: { 201: json(ActionConfirmation, 'The confirmation to send back'), ...errors(400, 401, 403, 404, 409, 503) },
    },
    async (req, res) => {
      const request = parse(ActionRequest, req.body ?? {}, 'body');
      res.status(201).json(ActionConfirmation.parse(await service.prepare(personOf(req), tokenOf(req), request)));
    },
  );

  contract.add(
    {
      method: 'post',
      path: '/api/v1/actions/confirm',
      auth: 'person',
      summary: 'Apply a prepared action as the signed-in person (single use, before it expires)',
      request: { body: requiredBody('application/json', ConfirmActionRequest) },
      responses: { 200: json(ActionResult, 'Applied'), ...errors(400, 401, 403, 404, 409, 410, 503) },
    },
    async (req, res) => {
      const { token } = parse(ConfirmActionRequest, req.body ?? {}, 'body');
      res.json(ActionResult.parse(await service.confirm(personOf(req), tokenOf(req), token)));
    },
  );
}
