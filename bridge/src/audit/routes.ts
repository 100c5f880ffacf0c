import { ApprovalStatusQuery, type FindLatest, signalApproval } from '../approvals/signals.js';
import { type Contract, errors, json } from '../http/contract.js';
import { personOf, scopeOf } from '../http/auth.js';
import { parse } from '../http/errors.js';
import { z } from '../zod.js';
import { writeAuditExport } from './export.js';
import { AuditExport, AuditExportQuery, AuditList, AuditListQuery, AuditVerification } from './schemas.js';
import type { AuditTrail } from './trail.js';

/**
 * People's audit routes, and the audit evidence of one task's approval (latest try) as a JSON export for the DAG
 * that files it with its run: called by Airflow's workers with the service token, like the other signals.
 */
export function auditRoutes(contract: Contract, trail: AuditTrail, findLatest: FindLatest<{ id: string }>, now: () => Date = () => new Date()): void {
  contract.add(
    {
      method: 'get',
      path: '/api/v1/audit',
      auth: 'person',
      summary: 'List audit entries in seq order, optionally for one approval',
      request: { query: AuditListQuery },
      responses: { 200: json(AuditList, 'A page of audit entries'), ...errors(400, 401) },
    },
    async (req, res) => {
      const { cursor, ...filters } = parse(AuditListQuery, req.query, 'query');
      const readable = scopeOf(req).readable;
      const page = await trail.list({ ...filters, after_seq: cursor, readable });
      res.json(AuditList.parse(page));
    },
  );

  contract.add(
    {
      method: 'get',
      path: '/api/v1/audit/export',
      auth: 'person',
      summary: 'Export the audit entries the filters select (all pages) as JSON or CSV, with the chain verified at export time',
      description:
        "A download (Content-Disposition: attachment). The Airgate-Audit-Chain header and each entry's chain_verified say whether the chain held; in CSV, details is JSON, and a cell that starts with =, +, -, @, tab or CR gets a leading apostrophe so spreadsheets do not run it.",
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
    },
    async (req, res) => {
      const query = parse(AuditExportQuery, req.query, 'query');
      await writeAuditExport(trail, { query, by: personOf(req).user, readable: scopeOf(req).readable, now: now() }, res);
    },
  );

  contract.add(
    {
      method: 'get',
      path: '/api/v1/audit/verify',
      auth: 'person',
      summary: 'Recompute the hash chain over the whole audit trail',
      responses: { 200: json(AuditVerification, 'Whether the trail is intact, and where it first breaks'), ...errors(401) },
    },
    async (_req, res) => {
      res.json(AuditVerification.parse(await trail.verify()));
    },
  );

  contract.add(
    {
      method: 'get',
      path: '/api/v1/signals/audit',
      auth: 'service',
      summary: "The audit evidence of one task's approval (latest try) as a JSON export with the chain verified, for the DAG that files it",
      request: { query: ApprovalStatusQuery },
      responses: { 200: json(AuditExport, "The approval's audit entries"), ...errors(400, 401, 404) },
    },
    async (req, res) => {
      const approval = await signalApproval(findLatest, req.query);
      await writeAuditExport(trail, { query: { approval_id: approval.id, format: 'json' }, by: 'service', readable: undefined, now: now() }, res);
    },
  );
}
