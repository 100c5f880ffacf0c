import { http, HttpResponse } from 'msw';

import type { AuditList, AuditVerification } from '../../api/client';
import { allAudit } from '../audit';
import { api, page } from './common';

export const auditUrl = api('audit');
export const auditVerifyUrl = api('audit/verify');

export const auditHandlers = [
  http.get(auditUrl, ({ request }) => {
    const query = new URL(request.url).searchParams;
    const approvalId = query.get('approval_id');
    const items = allAudit().filter((entry) => approvalId === null || entry.approval_id === approvalId);
    return HttpResponse.json<AuditList>(page(items, query, 100));
  }),
  http.get(auditVerifyUrl, () =>
    HttpResponse.json<AuditVerification>({ ok: true, checked: allAudit().length, first_bad_seq: null }),
  ),
];
