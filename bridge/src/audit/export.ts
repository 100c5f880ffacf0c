import type { Response } from 'express';
import { stringify } from 'csv-stringify/sync';
import type { AuditTrail } from './trail.js';
import { AUDIT_CSV_COLUMNS, type AuditEntry, type AuditExportEntry, type AuditExportQuery, type AuditVerification } from './schemas.js';

const PAGE = 500;

export interface AuditExportRequest {
  query: AuditExportQuery;
  /** Who asks; recorded in the export. */
  by: string;
  /** The DAGs the asker may read (all when undefined), as for the list. */
  readable: ReadonlySet<string> | undefined;
  now: Date;
}

/** Whether `entry` lies before the first break of the chain, i.e. its hash and link were verified. */
const verifiedOf = (verification: AuditVerification) => (entry: AuditEntry) =>
  verification.first_bad_seq === null ? entry.seq <= verification.head_seq : entry.seq < verification.first_bad_seq;

/** Every entry the filters select, in seq order, a page at a time so a long trail never sits in memory whole. */
async function* selected(trail: AuditTrail, request: AuditExportRequest): AsyncGenerator<AuditEntry[]> {
  const { format: _format, ...filters } = request.query;
  let after: number | undefined;
  for (;;) {
    const page = await trail.list({ ...filters, after_seq: after, limit: PAGE, readable: request.readable });
    if (page.items.length > 0) yield page.items;
    if (!page.next_cursor) return;
    after = Number(page.next_cursor);
  }
}

// A cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first) is written with a leading apostrophe.
const FORMULA = /^[=+\-@\t\r]/;
const cell = (value: unknown): string => {
  const text = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return FORMULA.test(text) ? `'${text}` : text;
};

/**
 * Streams the audit entries the filters select as one JSON document or as CSV, each entry marked with whether the
 * chain verified up to it; the verification runs first, over the whole trail, so the export says what it was.
 */
export async function writeAuditExport(trail: AuditTrail, request: AuditExportRequest, res: Response): Promise<void> {
  const verification = await trail.verify();
  const verified = verifiedOf(verification);
  const stamp = request.now.toISOString().replace(/[:.]/g, '-');
  res.setHeader('Content-Disposition', `attachment; filename="airgate-audit-${stamp}.${request.query.format}"`);
  res.setHeader('Airgate-Audit-Chain', verification.ok ? 'ok' : `broken at ${verification.first_bad_seq ?? 'checkpoint'} (${verification.problem})`);
  const mark = (entry: AuditEntry): AuditExportEntry => ({ ...entry, chain_verified: verified(entry) });
  if (request.query.format === 'csv') {
    res.type('text/csv; charset=utf-8');
    res.write(stringify([[...AUDIT_CSV_COLUMNS]]));
    for await (const page of selected(trail, request)) {
      res.write(stringify(page.map(mark).map((entry) => AUDIT_CSV_COLUMNS.map((column) => cell(entry[column])))));
    }
    res.end();
    return;
  }
  const { format: _format, ...filters } = request.query;
  const head = { exported_at: request.now.toISOString(), exported_by: request.by, filters, verification };
  res.type('application/json');
  // The document is written in parts: the head's fields, then the entries one by one, then the count.
  res.write(`${JSON.stringify(head).slice(0, -1)},"entries":[`);
  let count = 0;
  for await (const page of selected(trail, request)) {
    for (const entry of page) res.write(`${count++ === 0 ? '' : ','}${JSON.stringify(mark(entry))}`);
  }
  res.end(`],"count":${count}}`);
}
