import { http, HttpResponse } from 'msw';

import type { AuditList, AuditVerification } from '../../api/client';
import { allApprovals } from '../approvals';
import { allAudit } from '../audit';
import { api, page } from './common';

export const auditUrl = api('audit');
export const auditVerifyUrl = api('audit/verify');

/** A verification of the whole trail as the bridge answers it, keyed from the first entry, without checkpoints. */
export const verification = (result: Pick<AuditVerification, 'ok' | 'checked' | 'first_bad_seq'>): AuditVerification => ({
  ...result,
  problem: result.ok ? null : 'altered',
  head_seq: result.checked,
  keyed_from: 1,
  checkpoint: null,
});

export const auditHandlers = [
  http.get(auditUrl, ({ request }) => {
    const query = new URL(request.url).searchParams;
    const wanted = (name: string, value: string | null) => query.get(name) === null || query.get(name) === value;
    const items = allAudit().filter((entry) => {
      const request = entry.details.request as { dag_id?: string } | undefined;
      const dagId = entry.approval_id === null ? (request?.dag_id ?? null) : (allApprovals().find((a) => a.id === entry.approval_id)?.dag_id ?? null);
      return (
        wanted('approval_id', entry.approval_id) &&
        wanted('dag_id', dagId) &&
        wanted('action', entry.action) &&
        wanted('actor', entry.actor) &&
        entry.at >= (query.get('since') ?? '') &&
        entry.at < (query.get('until') ?? '\uffff')
      );
    });
    return HttpResponse.json<AuditList>(page(items, query, 100));
  }),
  http.get(auditVerifyUrl, () =>
    HttpResponse.json<AuditVerification>(verification({ ok: true, checked: allAudit().length, first_bad_seq: null })),
  ),
];
