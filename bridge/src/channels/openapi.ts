import type { OpenAPIRegistry, ResponseConfig, ZodRequestBody } from '@asteasolutions/zod-to-openapi';
import { z } from '../zod.js';
import { ApprovalIdParam } from '../approvals/schemas.js';
import { HookSource, HookVote } from './webhooks/inbound.js';
import { Approval } from '../approvals/schemas.js';
import { DeliveryList, DeliveryListQuery, MessageList, MessageListQuery } from '../deliveries/schemas.js';
import { EscalationList } from '../escalations/schemas.js';

/** What the main document builds its paths with, so channel paths read the same. */
interface PathParts {
  security: Record<string, string[]>[];
  json: (schema: z.ZodType, description: string) => ResponseConfig;
  errors: (...statuses: number[]) => Record<string, ResponseConfig>;
  requiredBody: (mediaType: string, schema: z.ZodType) => ZodRequestBody;
}

const LinkToken = z.object({ token: z.string().openapi({ description: 'A one-click link token from a message' }) });
const html = (description: string) => ({ description, content: { 'text/html': { schema: z.string() } } });
const LinkForm = z
  .object({
    reason: z.string().max(2000).optional(),
  })
  .catchall(z.string())
  .openapi('LinkForm', { description: 'Form fields: `reason`, and `params.NAME` for each field of the request form' });

/** The channels' routes in the bridge's OpenAPI document: links and Slack only where they are mounted. */
export function registerChannelPaths(registry: OpenAPIRegistry, mounted: { links: boolean; slack: boolean }, { security, json, errors, requiredBody }: PathParts): void {
  for (const [path, deprecated] of [['/api/v1/messages', false], ['/api/v1/outbox', true]] as const) {
    registry.registerPath({
      method: 'get',
      path,
      summary: deprecated
        ? 'Deprecated name of /api/v1/messages, answered the same; removed in the next release'
        : 'Every message the bridge sent or would send, newest first, with its delivery states',
      deprecated,
      security,
      request: { query: MessageListQuery },
      responses: { 200: json(MessageList, 'A page of messages'), ...errors(400, 401) },
    });
  }
  registry.registerPath({
    method: 'get',
    path: '/api/v1/deliveries',
    summary: 'Channel deliveries, newest first; state=failed lists those that never reached their channel',
    security,
    request: { query: DeliveryListQuery },
    responses: { 200: json(DeliveryList, 'A page of deliveries'), ...errors(400, 401) },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/approvals/{id}/escalations',
    summary: 'Approvers escalations added to the approval: who, to which level, when and why',
    security,
    request: { params: ApprovalIdParam },
    responses: { 200: json(EscalationList, 'Escalations, oldest first'), ...errors(401, 404) },
  });
  if (mounted.links) {
    const linkErrors = {
      401: html('Forged link'),
      403: html('The bound person may not decide this approval (any more)'),
      404: html('Approval not found'),
      409: html('Already decided'),
      410: html('Link expired or already used'),
    };
    registry.registerPath({
      method: 'get',
      path: '/a/{token}',
      summary: 'One-click link: a confirmation page; never changes anything',
      request: { params: LinkToken },
      responses: { 200: html('The confirmation page'), ...linkErrors },
    });
    registry.registerPath({
      method: 'post',
      path: '/a/{token}',
      summary: 'One-click link: decide as the approver the link is bound to (single use)',
      request: { params: LinkToken, body: requiredBody('application/x-www-form-urlencoded', LinkForm) },
      responses: { 200: html('Decision recorded'), 422: html('Missing reason or invalid form input; the link stays usable'), ...linkErrors },
    });
  }
  registry.registerPath({
    method: 'post',
    path: '/hooks/{source}',
    summary: 'Another system votes for one of its users (HMAC-signed raw body, ±5 minutes, once per delivery id)',
    request: {
      params: HookSource,
      headers: z.object({
        'X-Airgate-Timestamp': z.string().openapi({ description: 'Unix seconds' }),
        'X-Airgate-Signature': z.string().openapi({ description: "sha256=HMAC_SHA256(source secret, timestamp + '.' + delivery id + '.' + raw body), hex" }),
        'X-Airgate-Delivery': z.string().openapi({ description: 'Sender-chosen id, covered by the signature; a replay gets the first answer (X-Airgate-Replay: true)' }),
      }),
      body: requiredBody('application/json', HookVote),
    },
    responses: { 200: json(Approval, 'The approval after the vote'), ...errors(400, 401, 403, 404, 409, 422, 503) },
  });
  if (mounted.slack) {
    registry.registerPath({
      method: 'post',
      path: '/channels/slack/interactions',
      summary: "Slack's interactivity endpoint: buttons and the reason modal (v0 signing secret, ±5 minutes)",
      request: {
        headers: z.object({ 'X-Slack-Request-Timestamp': z.string(), 'X-Slack-Signature': z.string() }),
        body: requiredBody('application/x-www-form-urlencoded', z.object({ payload: z.string().openapi({ description: "Slack's interaction payload (JSON)" }) })),
      },
      responses: { 200: { description: 'Handled (errors for the person are shown in Slack)' }, ...errors(400, 401) },
    });
  }
}
