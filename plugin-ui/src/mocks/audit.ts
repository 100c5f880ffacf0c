import type { AuditEntry } from '../api/client';
import { fixtures } from './approvals';

const ZEROS = '0'.repeat(64);

let entries: AuditEntry[] = [];

export const recordAudit = (fields: Pick<AuditEntry, 'actor' | 'action' | 'approval_id'> & Partial<AuditEntry>) => {
  const prev = entries.at(-1);
  const seq = (prev?.seq ?? 0) + 1;
  entries.push({
    seq,
    at: new Date(Date.parse('2025-11-25T09:00:00.000Z') + seq * 60_000).toISOString(),
    channel: null,
    reason: null,
    details: {},
    prev_hash: prev?.hash ?? ZEROS,
    hash: seq.toString(16).padStart(64, 'a'),
    ...fields,
  });
};

export const allAudit = (): readonly AuditEntry[] => entries;

export const resetAudit = () => {
  entries = [];
  const { release, backfill } = fixtures;
  recordAudit({ actor: 'system', action: 'approval.registered', approval_id: release.id });
  recordAudit({ actor: 'dave', action: 'vote.recorded', approval_id: release.id, channel: 'slack', reason: 'Tests green' });
  recordAudit({ actor: 'system', action: 'level.opened', approval_id: release.id, details: { level: 2 } });
  recordAudit({ actor: 'system', action: 'approval.registered', approval_id: backfill.id });
  recordAudit({ actor: 'bob', action: 'vote.recorded', approval_id: backfill.id, channel: 'slack', reason: 'Numbers match' });
};

resetAudit();
