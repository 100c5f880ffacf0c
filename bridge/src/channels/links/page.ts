import type { StoredApproval } from '../../approvals/store.js';
import { own } from '../../own.js';
import { esc } from '../html.js';

/** One field of the confirmation form: from the HITL request's params or the policy's form. */
export interface LinkField {
  name: string;
  type: 'string' | 'number' | 'integer' | 'boolean' | 'json';
  required: boolean;
  value: unknown;
  description: string | null;
  enum: unknown[] | null;
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a202c}
h1{font-size:1.4rem}.box{border:1px solid #cbd5e0;border-radius:6px;padding:1rem;margin:1rem 0;white-space:pre-wrap}
label{display:block;margin:.8rem 0 .2rem;font-weight:600}input,textarea,select{width:100%;padding:.4rem;box-sizing:border-box}
button{margin-top:1rem;padding:.6rem 1.2rem;font-size:1rem}.error{color:#c53030;font-weight:600}.muted{color:#4a5568}`;

export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${esc(title)} · airgate</title><style>${STYLE}</style></head>
<body><h1>${esc(title)}</h1>${body}</body></html>`;
}

export const messagePage = (title: string, message: string) => page(title, `<p>${esc(message)}</p>`);

function fieldInput(field: LinkField, given: unknown): string {
  const id = `f_${esc(field.name)}`;
  const value = given ?? field.value;
  const label = `<label for="${id}">${esc(field.name)}${field.required ? ' *' : ''}</label>${field.description ? `<div class="muted">${esc(field.description)}</div>` : ''}`;
  const name = `params.${esc(field.name)}`;
  const required = field.required ? ' required' : '';
  if (field.enum) {
    const options = field.enum.map((v) => `<option value="${esc(v)}"${v === value ? ' selected' : ''}>${esc(v)}</option>`).join('');
    return `${label}<select id="${id}" name="${name}"${required}>${options}</select>`;
  }
  if (field.type === 'boolean') return `${label}<input type="checkbox" id="${id}" name="${name}" value="true"${value === true ? ' checked' : ''} style="width:auto">`;
  if (field.type === 'json') return `${label}<textarea id="${id}" name="${name}" rows="3"${required}>${esc(value === undefined || value === null ? '' : JSON.stringify(value))}</textarea>`;
  const type = field.type === 'string' ? 'text' : 'number';
  const step = field.type === 'number' ? ' step="any"' : '';
  return `${label}<input type="${type}"${step} id="${id}" name="${name}" value="${esc(value ?? '')}"${required}>`;
}

export interface ConfirmPage {
  approval: StoredApproval;
  user: string;
  option: string;
  reasonRequired: boolean;
  fields: LinkField[];
  error?: string;
  given?: { reason?: string; params?: Record<string, unknown> };
}

/** The page a link opens: what is being decided, by whom, and a form that POSTs the decision. Viewing decides nothing. */
export function confirmPage(p: ConfirmPage): string {
  const { approval } = p;
  const summary = `<div class="box"><strong>${esc(approval.subject)}</strong>\n${esc(approval.dag_id)} / ${esc(approval.task_id)} (run ${esc(approval.run_id)})${approval.body ? `\n\n${esc(approval.body)}` : ''}${approval.due_at ? `\n\nDue: ${esc(approval.due_at)}` : ''}</div>`;
  const fields = p.fields.map((f) => fieldInput(f, p.given?.params ? own(p.given.params, f.name) : undefined)).join('');
  const reason = `<label for="reason">Reason${p.reasonRequired ? ' *' : ' (optional)'}</label><textarea id="reason" name="reason" rows="3" maxlength="2000"${p.reasonRequired ? ' required' : ''}>${esc(p.given?.reason ?? '')}</textarea>`;
  return page(
    `Confirm: ${p.option}`,
    `${summary}<p>You are deciding as <strong>${esc(p.user)}</strong>.</p>${p.error ? `<p class="error">${esc(p.error)}</p>` : ''}
<form method="post">${fields}${reason}<button type="submit">${esc(p.option)}</button></form>`,
  );
}
