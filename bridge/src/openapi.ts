import { OpenAPIRegistry, OpenApiGeneratorV31, type ZodRequestBody } from '@asteasolutions/zod-to-openapi';
import { z } from './zod.js';
import { Approval, ApprovalIdParam, ApprovalList, ApprovalListQuery, ApprovalRegistration, BypassRequest, DeferredVote, VoteRequest } from './approvals/schemas.js';
import { AuditExport, AuditExportQuery, AuditList, AuditListQuery, AuditVerification } from './audit/schemas.js';
import { ActionConfirmation, ActionRequest, ActionResult, ConfirmActionRequest } from './actions/schemas.js';
import { registerChannelPaths } from './channels/openapi.js';
import { BulkDecisionRequest, BulkDecisionResult, ClaimRequest } from './queue/schemas.js';
import { ApprovalDeliveries } from './deliveries/schemas.js';
import { EscalationList } from './escalations/schemas.js';
import { ErrorBody } from './http/errors.js';
import { Stats, StatsQuery } from './stats/schemas.js';
import { ApprovalSignal, ApprovalStatusQuery } from './approvals/signals.js';
import { Delegation, DelegationIdParam, DelegationList, DelegationListQuery, DelegationRequest } from './delegations/schemas.js';

const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), json(ErrorBody, `Error ${s}`)]));
/** A request body the route cannot do without (an absent one is refused with 400). */
const requiredBody = (mediaType: string, schema: z.ZodType): ZodRequestBody => ({ required: true, content: { [mediaType]: { schema } } });

/** The routes a bridge mounts beside its core API: its channels' (none without channels), links and Slack only when configured. */
export interface MountedRoutes {
  channels: { links: boolean; slack: boolean } | null;
}
/** Every route there is: the contract clients generate their types from (bridge/openapi.json). */
export const EVERY_ROUTE: MountedRoutes = { channels: { links: true, slack: true } };

/**
 * The bridge's public contract as OpenAPI 3.1, generated from the same zod schemas the routes parse with; a bridge
 * serves the document of the routes it mounted.
 */
export function openApiDocument(mounted: MountedRoutes = EVERY_ROUTE) {
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
      body: requiredBody('application/json', VoteRequest),
    },
    responses: {
      200: json(Approval, 'The approval after the vote'),
      202: json(DeferredVote, 'Airflow could not be asked whether the voter may decide: the vote is kept and counted once it answers'),
      ...errors(400, 401, 403, 404, 409, 422, 503),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/approvals/{id}/bypass',
    summary: "Break-glass: decide a pending approval at once, past its policy's levels, as someone its break_glass allows; opens an after-the-fact review",
    security,
    request: { params: ApprovalIdParam, body: requiredBody('application/json', BypassRequest) },
    responses: { 200: json(Approval, 'The bypassed approval (state bypassed, with its bypass and review id)'), ...errors(400, 401, 403, 404, 409, 422, 503) },
  });
  registry.registerPath({
    method: 'put',
    path: '/api/v1/queue/{id}/claim',
    summary: "Review queue: claim a pending approval the signed-in person may decide (or renew one's own claim); until it ends, others' votes are refused with 409 claimed",
    security,
    request: { params: ApprovalIdParam, body: { content: { 'application/json': { schema: ClaimRequest } } } },
    responses: { 200: json(Approval, 'The approval with its claim'), ...errors(400, 401, 403, 404, 409, 503) },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/v1/queue/{id}/claim',
    summary: "Review queue: release one's own claim (nothing to do when nobody holds one)",
    security,
    request: { params: ApprovalIdParam },
    responses: { 200: json(Approval, 'The approval, unclaimed'), ...errors(400, 401, 404, 409, 503) },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/queue/decisions',
    summary: 'Review queue: one option and reason for many approvals, each voted on, audited and refused on its own, as POST /api/v1/approvals/{id}/votes would',
    security,
    request: {
      headers: z.object({ 'Idempotency-Key': z.string().optional() }),
      body: requiredBody('application/json', BulkDecisionRequest),
    },
    responses: { 200: json(BulkDecisionResult, 'One result per approval: counted, kept until Airflow answers, or refused with its code'), ...errors(400, 401, 503) },
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
    path: '/api/v1/audit/export',
    summary: 'Export the audit entries the filters select (all pages) as JSON or CSV, with the chain verified at export time',
    description:
      "A download (Content-Disposition: attachment). The Airgate-Audit-Chain header and each entry's chain_verified say whether the chain held; in CSV, details is JSON, and a cell that starts with =, +, -, @, tab or CR gets a leading apostrophe so spreadsheets do not run it.",
    security,
    request: { query: AuditExportQuery },
    responses: {
      200: {
        description: 'The export',
        headers: { 'Airgate-Audit-Chain': { description: '`ok`, or where and why the chain breaks', schema: { type: 'string' } } },
        content: {
          'application/json': { schema: AuditExport },
          'text/csv': { schema: z.string().openapi({ description: `A header row, then a row per entry` }) },
        },
      },
      ...errors(400, 401),
    },
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
    request: { body: requiredBody('application/json', ActionRequest) },
    responses: { 201: json(ActionConfirmation, 'The confirmation to send back'), ...errors(400, 401, 403, 404, 409, 503) },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/actions/confirm',
    summary: 'Apply a prepared action as the signed-in person (single use, before it expires)',
    security,
    request: { body: requiredBody('application/json', ConfirmActionRequest) },
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
    method: 'post',
    path: '/api/v1/approvals',
    summary: "The Airflow side announces an approval; checked against Airflow's HITL request and run before it is stored, idempotent on the task try",
    security: [{ [serviceToken.name]: [] }],
    request: { body: requiredBody('application/json', ApprovalRegistration) },
    responses: {
      200: json(Approval, 'Already registered: the stored approval, unchanged'),
      201: json(Approval, 'Registered'),
      ...errors(400, 401, 403, 422, 503),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/signals/approvals',
    summary: "A sensor's read-only view of one task's approval: the latest try's state and decision",
    security: [{ [serviceToken.name]: [] }],
    request: { query: ApprovalStatusQuery },
    responses: { 200: json(ApprovalSignal, 'The approval as signals publish it'), ...errors(400, 401, 404) },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/signals/audit',
    summary: "The audit evidence of one task's approval (latest try) as a JSON export with the chain verified, for the DAG that files it",
    security: [{ [serviceToken.name]: [] }],
    request: { query: ApprovalStatusQuery },
    responses: { 200: json(AuditExport, "The approval's audit entries"), ...errors(400, 401, 404) },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/signals/escalations',
    summary: "The escalation chain of one task's approval (latest try), for the DAG that records it",
    security: [{ [serviceToken.name]: [] }],
    request: { query: ApprovalStatusQuery },
    responses: { 200: json(EscalationList, 'Who escalations added, oldest first'), ...errors(400, 401, 404) },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/signals/deliveries',
    summary: "How one task's approval (latest try) reached people: every delivery, oldest first, without addresses",
    security: [{ [serviceToken.name]: [] }],
    request: { query: ApprovalStatusQuery },
    responses: { 200: json(ApprovalDeliveries, "The approval's deliveries"), ...errors(400, 401, 404) },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/delegations',
    summary: "The delegations the signed-in person gave and received (everyone's for an admin asking all=true), with the policies file's",
    security,
    request: { query: DelegationListQuery },
    responses: { 200: json(DelegationList, 'Delegations, newest first'), ...errors(400, 401, 403, 503) },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/delegations',
    summary: 'Hand the signed-in person\'s own vote to a deputy for a period (at most 90 days), optionally for some policies only; audited',
    security,
    request: { body: requiredBody('application/json', DelegationRequest) },
    responses: { 201: json(Delegation, 'The delegation'), ...errors(400, 401, 503) },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/v1/delegations/{id}',
    summary: 'Revoke a delegation the signed-in person gave (one the policies file names is changed there); audited',
    security,
    request: { params: DelegationIdParam },
    responses: { 200: json(Delegation, 'The revoked delegation'), ...errors(400, 401, 403, 404, 409, 503) },
  });
  if (mounted.channels) registerChannelPaths(registry, mounted.channels, { security, json, errors, requiredBody });
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'airgate bridge', version: '1' },
  });
}
