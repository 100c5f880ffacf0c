import { http, HttpResponse } from 'msw';

import type { ActionConfirmation, ActionRequest, ActionResult, ApiError } from '../../api/client';
import { recordAudit } from '../audit';
import { api, bridgeError, signedInUser } from './common';

export const actionsUrl = api('actions');
export const confirmUrl = api('actions/confirm');

export const CONFIRMATION_TTL_MS = 60_000;

const effectOf = (action: ActionRequest) => {
  switch (action.kind) {
    case 'trigger_run':
      return `triggers a run of ${action.dag_id} with conf ${JSON.stringify(action.conf)}`;
    case 'clear_task':
      return action.include_downstream
        ? `clears 4 tasks: ${action.task_id}, load, report, notify`
        : `clears 1 task: ${action.task_id}`;
    case 'mark_task':
      return `marks ${action.task_id} ${action.state}`;
    case 'mark_run_failed':
      return `marks run ${action.run_id} failed and stops 2 running tasks`;
    case 'pause_dag':
      return `pauses ${action.dag_id}: no new runs are scheduled`;
    case 'resume_dag':
      return `resumes ${action.dag_id}`;
    default:
      return `publishes an event of asset ${action.asset_id}`;
  }
};

let pending = new Map<string, { action: ActionRequest; expiresAt: number }>();
let issued = 0;

export const resetActions = () => {
  pending = new Map();
};

// Mirrors the bridge: every action is prepared first, and only its confirmation, in time and once, applies it.
export const actionsHandlers = [
  http.post<never, ActionRequest, ActionConfirmation | ApiError>(actionsUrl, async ({ request }) => {
    const action = await request.json();
    if (action.reason.trim() === '') {
      return bridgeError(422, 'reason_required', 'a reason is required', 'reason');
    }
    issued += 1;
    const token = `confirm-${issued}`;
    const expiresAt = Date.now() + CONFIRMATION_TTL_MS;
    pending.set(token, { action, expiresAt });
    recordAudit({ actor: signedInUser, action: 'action.prepared', approval_id: null, reason: action.reason });
    return HttpResponse.json<ActionConfirmation>(
      { confirmation: { token, effect: effectOf(action), expires_at: new Date(expiresAt).toISOString() } },
      { status: 201 },
    );
  }),
  http.post<never, { token: string }, ActionResult | ApiError>(confirmUrl, async ({ request }) => {
    const { token } = await request.json();
    const found = pending.get(token);
    pending.delete(token);
    if (found === undefined || found.expiresAt <= Date.now()) {
      return bridgeError(410, 'gone', 'the confirmation expired or was already used');
    }
    recordAudit({ actor: signedInUser, action: 'action.applied', approval_id: null, reason: found.action.reason });
    return HttpResponse.json<ActionResult>({ applied: true, kind: found.action.kind, result: {} });
  }),
];
