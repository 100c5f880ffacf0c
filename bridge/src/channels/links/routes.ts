import express, { type Request, type Response } from 'express';
import { type Contract, html, requiredBody } from '../../http/contract.js';
import { z } from '../../zod.js';
import type { ApprovalService, PolicySource } from '../../approvals/service.js';
import type { StoredApproval } from '../../approvals/store.js';
import type { AuditTrail } from '../../audit/trail.js';
import { statusOf } from '../../http/errors.js';
import { Refusal } from '../../refusal.js';
import { type Policy, type PolicySet, meaningOf, reasonRequired, selectPolicy } from '../../policies/index.js';
import { own } from '../../own.js';
import type { Db } from '../../store/db.js';
import { escalatedApprovers } from '../../escalations/store.js';
import { type LinkField, confirmPage, messagePage } from './page.js';
import { SqlLinkUseStore } from './store.js';
import type { LinkClaims, LinkTokens } from './tokens.js';

export interface LinkRouteDeps {
  db: Db;
  service: ApprovalService;
  policies: PolicySource;
  trail: AuditTrail;
  tokens: LinkTokens;
  now?: () => Date;
}

type RefusedLink = { ok: false; status: number; title: string; message: string };
type Resolved = { ok: true; claims: LinkClaims; approval: StoredApproval; policy: Policy | null } | RefusedLink;

const FIELD_TYPES = new Set(['string', 'number', 'integer', 'boolean']);

/** The form a link's page shows: the HITL request's params, then the policy's own form fields. */
function fieldsOf(approval: StoredApproval, policy: Policy | null): LinkField[] {
  const fromParams = Object.entries(approval.params).map(([name, raw]): LinkField => {
    const spec = (raw ?? {}) as { value?: unknown; schema?: Record<string, unknown>; description?: string | null };
    return field(name, spec.schema ?? {}, spec.value, spec.description ?? null, false);
  });
  const fromPolicy = (policy?.form ?? []).filter((f) => !Object.hasOwn(approval.params, f.name)).map((f) => field(f.name, f.schema, f.schema.default, null, f.required));
  return [...fromParams, ...fromPolicy];
}

function field(name: string, schema: Readonly<Record<string, unknown>>, value: unknown, description: string | null, required: boolean): LinkField {
  const raw = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  const type = typeof raw === 'string' && FIELD_TYPES.has(raw) ? (raw as LinkField['type']) : raw === undefined && typeof value === 'string' ? 'string' : 'json';
  return { name, type, required, value, description: description ?? (typeof schema.description === 'string' ? schema.description : null), enum: Array.isArray(schema.enum) ? schema.enum : null };
}

/** Form text back to the values the fields hold; a value that does not parse goes as text, and validation names it. */
function paramsFrom(body: Record<string, unknown>, fields: LinkField[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const text = own(body, `params.${f.name}`);
    if (f.type === 'boolean') {
      out[f.name] = text === 'true';
      continue;
    }
    if (typeof text !== 'string' || text === '') continue;
    if (f.type === 'number' || f.type === 'integer') out[f.name] = Number.isNaN(Number(text)) ? text : Number(text);
    else if (f.type === 'json') {
      try {
        out[f.name] = JSON.parse(text);
      } catch {
        out[f.name] = text;
      }
    } else out[f.name] = text;
  }
  return out;
}

const LinkToken = z.object({ token: z.string().openapi({ description: 'A one-click link token from a message' }) });
const LinkForm = z
  .object({
    reason: z.string().max(2000).optional(),
  })
  .catchall(z.string())
  .openapi('LinkForm', { description: 'Form fields: `reason`, and `params.NAME` for each field of the request form' });
const LINK_ERRORS = {
  401: html('Forged link'),
  403: html('The bound person may not decide this approval (any more)'),
  404: html('Approval not found'),
  409: html('Already decided'),
  410: html('Link expired or already used'),
};

const rejects = (set: PolicySet, policy: Policy | null, option: string) => meaningOf(set, policy, option) === 'reject';

/**
 * `GET /a/{token}` shows what the link would do and changes nothing (mail scanners follow links); `POST /a/{token}`
 * decides, as the approver the link is bound to. Forged 401, expired or used 410, no longer eligible 403: each a
 * page for the person and an audit entry.
 */
export function linkRoutes(contract: Contract, deps: LinkRouteDeps): void {
  const escalated = escalatedApprovers(deps.db);
  const uses = new SqlLinkUseStore(deps.db);
  const now = deps.now ?? (() => new Date());

  async function refuse(why: string, status: number, title: string, message: string, claims: Partial<LinkClaims> | null): Promise<RefusedLink> {
    await deps.trail.append(deps.db, {
      actor: claims?.sub ?? 'anonymous',
      action: 'link.refused',
      channel: claims?.ch ?? 'link',
      approval_id: claims?.aid ?? null,
      details: { why, status, option: claims?.opt ?? null, jti: claims?.jti ?? null },
      at: now().toISOString(),
    });
    return { ok: false, status, title, message };
  }

  async function resolve(token: string): Promise<Resolved> {
    const check = await deps.tokens.verify(token);
    if (!check.ok && check.why === 'forged') return refuse('forged', 401, 'Invalid link', 'This link is not valid. Open the approval in Airflow instead.', null);
    if (!check.ok) return refuse('expired', 410, 'Link expired', 'This link has expired. Open the approval in Airflow to decide.', check.claims);
    const { claims } = check;
    if (await uses.isUsed(claims.jti)) return refuse('used', 410, 'Link already used', 'This link has already been used; each link works once.', claims);
    const approval = await deps.service.get(claims.aid).catch(() => undefined);
    if (!approval) return refuse('not_found', 404, 'Approval not found', 'This approval no longer exists.', claims);
    if (approval.state !== 'pending') return refuse('final', 409, 'Already decided', `This approval is already ${approval.state}.`, claims);
    const person = { user: claims.sub, role: null };
    if (!deps.service.canVote(approval, person, (await escalated([approval.id])).get(approval.id))) {
      return refuse('not_eligible', 403, 'Not yours to decide', `${claims.sub} may not decide this approval (any more).`, claims);
    }
    return { ok: true, claims, approval, policy: selectPolicy(deps.policies.current(), approval) };
  }

  const send = (res: Response, status: number, html: string) => {
    res.status(status).set('Cache-Control', 'no-store').type('html').send(html);
  };
  const tokenOf = (req: Request) => String(req.params.token ?? '');

  contract.add(
    {
      method: 'get',
      path: '/a/{token}',
      auth: 'signed',
      summary: 'One-click link: a confirmation page; never changes anything',
      request: { params: LinkToken },
      responses: { 200: html('The confirmation page'), ...LINK_ERRORS },
    },
    async (req, res) => {
    const r = await resolve(tokenOf(req));
    if (!r.ok) return send(res, r.status, messagePage(r.title, r.message));
    const { claims, approval, policy } = r;
    const set = deps.policies.current();
    const approving = !rejects(set, policy, claims.opt);
    send(res, 200, confirmPage({ approval, user: claims.sub, option: claims.opt, reasonRequired: reasonRequired(set, policy, claims.opt), fields: approving ? fieldsOf(approval, policy) : [] }));
    },
  );

  contract.add(
    {
      method: 'post',
      path: '/a/{token}',
      auth: 'signed',
      summary: 'One-click link: decide as the approver the link is bound to (single use)',
      request: { params: LinkToken, body: requiredBody('application/x-www-form-urlencoded', LinkForm) },
      responses: { 200: html('Decision recorded'), 422: html('Missing reason or invalid form input; the link stays usable'), ...LINK_ERRORS },
    },
    express.urlencoded({ extended: false, limit: '64kb' }),
    async (req, res) => {
    const r = await resolve(tokenOf(req));
    if (!r.ok) return send(res, r.status, messagePage(r.title, r.message));
    const { claims, approval, policy } = r;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const fields = rejects(deps.policies.current(), policy, claims.opt) ? [] : fieldsOf(approval, policy);
    const reason = typeof body.reason === 'string' && body.reason.trim() ? body.reason.trim() : undefined;
    const params_input = paramsFrom(body, fields);
    // Claim the link before voting: of two concurrent submissions, exactly one gets to vote.
    if (!(await uses.claim({ jti: claims.jti, approval_id: approval.id, user: claims.sub, used_at: now().toISOString() }))) {
      const refused = await refuse('used', 410, 'Link already used', 'This link has already been used; each link works once.', claims);
      return send(res, refused.status, messagePage(refused.title, refused.message));
    }
    try {
      const view = await deps.service.vote(
        approval.id,
        { user: claims.sub, role: null },
        { option: claims.opt, ...(reason ? { reason } : {}), ...(fields.length ? { params_input } : {}) },
        { channel: claims.ch, idempotencyKey: claims.jti },
      );
      send(res, 200, messagePage('Decision recorded', `${claims.opt} by ${claims.sub} is recorded. The approval is now ${view.state}.`));
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      if (err.kind === 'unprocessable') {
        // Something the person can fix on the page: the link stays usable.
        await uses.release(claims.jti);
        const page = confirmPage({ approval, user: claims.sub, option: claims.opt, reasonRequired: reasonRequired(deps.policies.current(), policy, claims.opt), fields, error: err.message, given: { ...(reason ? { reason } : {}), params: params_input } });
        return send(res, 422, page);
      }
      send(res, statusOf(err), messagePage('Not recorded', err.message));
    }
    },
  );
}
