import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from './zod.js';
import { Approval, ApprovalIdParam, ApprovalList, ApprovalListQuery, VoteRequest } from './approvals/schemas.js';
import { AuditList, AuditListQuery, AuditVerification } from './audit/schemas.js';
import { ActionConfirmation, ActionRequest, ActionResult, ConfirmActionRequest } from './actions/schemas.js';
import { registerChannelPaths } from './channels/openapi.js';
import { ErrorBody } from './http/errors.js';
import { Stats, StatsQuery } from './stats/schemas.js';
import { ApprovalSignal, ApprovalStatusQuery } from './approvals/signals.js';

const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), json(ErrorBody, `Error ${s}`)]));

/** The bridge's public contract as OpenAPI 3.1, generated from the same zod schemas the routes parse with. */
export function openApiDocument() {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'airflowToken', {
    type: 'http',
    scheme: 'bearer',
    description: "The JWT that Airflow's POST /auth/token returns",
  });
  const security = [{ [bearer.name]: [] }];
  registry.registerPath({
    method: 'get',
    path: '/api/v1/approvals',
    summary: 'List approvals',
    security,
    request: { query: ApprovalListQuery },
    responses: { 200: json(ApprovalList, 'A page of approvals'), ...errors(400, 401) },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/approvals/{id}',
    summary: 'Get one approval',
    security,
    request: { params: ApprovalIdParam },
    responses: { 200: json(Approval, 'The approval'), ...errors(401, 404) },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/approvals/{id}/votes',
    summary: 'Vote on an approval as the signed-in person',
    security,
    request: {
      params: ApprovalIdParam,
      headers: z.object({ 'Idempotency-Key': z.string().optional() }),
      body: { content: { 'application/json': { schema: VoteRequest } } },
    },
    responses: { 200: json(Approval, 'The approval after the vote'), ...errors(400, 401, 403, 404, 409, 422, 503) },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/audit',
    summary: 'List audit entries in seq order, optionally for one approval',
    security,
    request: { query: AuditListQuery },
    responses: { 200: json(AuditList, 'A page of audit entries'), ...errors(400, 401) },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/audit/verify',
    summary: 'Recompute the hash chain over the whole audit trail',
    security,
    responses: { 200: json(AuditVerification, 'Whether the trail is intact, and where it first breaks'), ...errors(401) },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/actions',
    summary: 'Prepare an Airflow action: returns what it will do and a short-lived confirmation token',
    security,
    request: { body: { content: { 'application/json': { schema: ActionRequest } } } },
    responses: { 201: json(ActionConfirmation, 'The confirmation to send back'), ...errors(400, 401, 403, 404, 409, 503) },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/actions/confirm',
    summary: 'Apply a prepared action as the signed-in person (single use, before it expires)',
    security,
    request: { body: { content: { 'application/json': { schema: ConfirmActionRequest } } } },
    responses: { 200: json(ActionResult, 'Applied'), ...errors(400, 401, 403, 404, 409, 410, 503) },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/stats',
    summary: 'Dashboard figures: pending count, decision latency, SLA compliance per DAG, failed effects',
    security,
    request: { query: StatsQuery },
    responses: { 200: json(Stats, 'The figures over the window'), ...errors(400, 401) },
  });
  const serviceToken = registry.registerComponent('securitySchemes', 'serviceToken', {
    type: 'http',
    scheme: 'bearer',
    description: "The bridge's service token (AIRGATE_SERVICE_TOKEN), held by the Airflow side",
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/signals/approvals',
    summary: "A sensor's read-only view of one task's approval: the latest try's state and decision",
    security: [{ [serviceToken.name]: [] }],
    request: { query: ApprovalStatusQuery },
    responses: { 200: json(ApprovalSignal, 'The approval as signals publish it'), ...errors(400, 401, 404) },
  });
  registerChannelPaths(registry, security, json, errors);
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'airgate bridge', version: '1' },
  });
}
