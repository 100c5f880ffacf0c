import type { WebClient } from '@slack/web-api';
import express, { type Request } from 'express';
import { type Contract, errors, requiredBody } from '../../http/contract.js';
import type { Logger } from 'pino';
import type { ApprovalService, PolicySource } from '../../approvals/service.js';
import type { AuditTrail } from '../../audit/trail.js';
import { ApiError } from '../../http/errors.js';
import { Refusal, unauthenticated } from '../../refusal.js';
import { meaningOf, reasonRequired, selectPolicy } from '../../policies/index.js';
import type { Db } from '../../store/db.js';
import { z } from '../../zod.js';
import type { ChannelsConfig } from '../config.js';
import { freshTimestamp, hmacHex, sameSignature } from '../signatures.js';
import { type ReasonMeta, decidedBlocks, reasonModal } from './blocks.js';

export interface SlackInteractionDeps {
  db: Db;
  service: ApprovalService;
  policies: PolicySource;
  trail: AuditTrail;
  config: ChannelsConfig;
  client: WebClient;
  signingSecret: string;
  log: Logger;
  now: () => Date;
}

const ButtonValue = z.object({ a: z.string().min(1), o: z.string().min(1) });
const Meta = ButtonValue.extend({ c: z.string(), t: z.string() });
const User = z.object({ id: z.string().min(1) });

const BlockActions = z.object({
  type: z.literal('block_actions'),
  user: User,
  trigger_id: z.string().min(1),
  container: z.object({ channel_id: z.string(), message_ts: z.string() }),
  actions: z.array(z.object({ action_id: z.string(), value: z.string() })).min(1),
});
const ViewSubmission = z.object({
  type: z.literal('view_submission'),
  user: User,
  view: z.object({
    id: z.string().min(1),
    callback_id: z.string(),
    private_metadata: z.string(),
    state: z.object({ values: z.record(z.string(), z.record(z.string(), z.object({ value: z.string().nullable().optional() }))) }),
  }),
});
const Payload = z.discriminatedUnion('type', [BlockActions, ViewSubmission]);

/** `v0=HMAC(signing secret, 'v0:' + timestamp + ':' + raw body)`, as Slack signs requests. */
export const slackSignature = (secret: string, timestamp: string, body: string | Buffer) => `v0=${hmacHex(secret, `v0:${timestamp}:${body.toString()}`)}`;

/**
 * `POST /channels/slack/interactions`: button clicks and modal submissions. The request is Slack's if its v0 signature
 * over the raw body verifies and its timestamp is within ±5 minutes; the voter is the Airflow user the Slack user maps
 * to (the channels file's `people.NAME.slack`, else the profile email matched against `people.NAME.email`). A reject,
 * or any option when the policy wants a reason, opens a modal; the vote is cast when it is submitted. A replayed
 * request within the window is the same interaction (its trigger or view id is the vote's idempotency key).
 */
export function slackInteractionRoutes(contract: Contract, deps: SlackInteractionDeps): void {
  const { client, log } = deps;

  const refuse = async (why: string, details: Record<string, unknown> = {}) => {
    await deps.trail.append(deps.db, { actor: 'slack', action: 'slack.refused', channel: 'slack', details: { why, ...details }, at: deps.now().toISOString() });
  };

  async function authenticate(req: Request): Promise<z.infer<typeof Payload>> {
    const raw: unknown = req.body ?? Buffer.alloc(0);
    if (!Buffer.isBuffer(raw)) throw new Error('Slack interactions need the raw body: mount the channels public routes before any body parser');
    const timestamp = req.get('x-slack-request-timestamp');
    if (!freshTimestamp(timestamp, deps.now())) {
      await refuse('stale_timestamp');
      throw unauthenticated('X-Slack-Request-Timestamp missing or more than 5 minutes off');
    }
    if (!sameSignature(slackSignature(deps.signingSecret, timestamp!, raw), req.get('x-slack-signature') ?? '')) {
      await refuse('bad_signature');
      throw unauthenticated('bad X-Slack-Signature');
    }
    const payload = Payload.safeParse(JSON.parse(new URLSearchParams(raw.toString('utf8')).get('payload') ?? 'null'));
    if (!payload.success) throw new ApiError(400, 'bad_request', 'payload: not an interaction airgate handles', 'payload');
    return payload.data;
  }

  async function approverFor(slackUser: string): Promise<string | null> {
    const mapped = Object.entries(deps.config.people).find(([, p]) => p.slack === slackUser)?.[0];
    if (mapped) return mapped;
    const info = await client.users.info({ user: slackUser }).catch(() => null);
    const email = info?.user?.profile?.email?.toLowerCase();
    return (email && Object.entries(deps.config.people).find(([, p]) => p.email?.toLowerCase() === email)?.[0]) || null;
  }

  async function tellPrivately(channel: string, user: string, text: string) {
    await client.chat.postEphemeral({ channel, user, text }).catch((err: unknown) => log.warn({ err: String(err) }, 'slack ephemeral failed'));
  }

  /** Casts the vote; on success the message shows who decided instead of buttons. */
  async function decide(meta: ReasonMeta, user: string, reason: string | undefined, key: string) {
    const view = await deps.service.vote(meta.a, { user, role: null }, { option: meta.o, ...(reason ? { reason } : {}) }, { channel: 'slack', idempotencyKey: key });
    await client.chat
      .update({ channel: meta.c, ts: meta.t, text: `${meta.o} by ${user}: ${view.subject}`, blocks: decidedBlocks(view, user, meta.o) })
      .catch((err: unknown) => log.warn({ err: String(err) }, 'slack message update failed'));
  }

  contract.add(
    {
      method: 'post',
      path: '/channels/slack/interactions',
      auth: 'signed',
      summary: "Slack's interactivity endpoint: buttons and the reason modal (v0 signing secret, ±5 minutes)",
      request: {
        headers: z.object({ 'X-Slack-Request-Timestamp': z.string(), 'X-Slack-Signature': z.string() }),
        body: requiredBody('application/x-www-form-urlencoded', z.object({ payload: z.string().openapi({ description: "Slack's interaction payload (JSON)" }) })),
      },
      responses: { 200: { description: 'Handled (errors for the person are shown in Slack)' }, ...errors(400, 401) },
    },
    express.raw({ type: () => true, limit: '256kb' }),
    async (req, res) => {
    const payload = await authenticate(req);
    const user = await approverFor(payload.user.id);
    if (payload.type === 'block_actions') {
      const { channel_id: c, message_ts: t } = payload.container;
      const button = ButtonValue.safeParse(JSON.parse(payload.actions[0]!.value));
      if (!button.success) throw new ApiError(400, 'bad_request', 'action value: not an airgate button', 'payload');
      const meta: ReasonMeta = { ...button.data, c, t };
      if (!user) {
        await refuse('unmapped_user', { slack_user: payload.user.id, approval_id: meta.a });
        await tellPrivately(c, payload.user.id, 'Your Slack account is not linked to an Airflow user, so it cannot decide approvals.');
        res.status(200).end();
        return;
      }
      const approval = await deps.service.get(meta.a).catch(() => null);
      const set = deps.policies.current();
      const policy = approval ? selectPolicy(set, approval) : null;
      const rejecting = meaningOf(set, policy, meta.o) === 'reject';
      const needsReason = reasonRequired(set, policy, meta.o);
      if (approval?.state === 'pending' && (needsReason || rejecting)) {
        await client.views.open({ trigger_id: payload.trigger_id, view: reasonModal(meta, needsReason) });
        res.status(200).end();
        return;
      }
      try {
        await decide(meta, user, undefined, `slack:${payload.trigger_id}`);
      } catch (err) {
        if (!(err instanceof Refusal)) throw err;
        await tellPrivately(c, payload.user.id, `Not recorded: ${err.message}`);
      }
      res.status(200).end();
      return;
    }
    if (payload.view.callback_id !== 'airgate_reason') throw new ApiError(400, 'bad_request', 'unknown view', 'payload');
    const meta = Meta.parse(JSON.parse(payload.view.private_metadata));
    if (!user) {
      await refuse('unmapped_user', { slack_user: payload.user.id, approval_id: meta.a });
      res.json({ response_action: 'errors', errors: { reason: 'Your Slack account is not linked to an Airflow user.' } });
      return;
    }
    const reason = payload.view.state.values.reason?.reason?.value?.trim() || undefined;
    try {
      await decide(meta, user, reason, `slack:${payload.view.id}`);
      res.status(200).end();
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      // Shown under the reason box; the modal stays open so a missing reason can be given.
      res.json({ response_action: 'errors', errors: { reason: err.message } });
    }
    },
  );
}
