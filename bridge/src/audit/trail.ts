import { type Kysely, PostgresAdapter, type Selectable, type Transaction, sql } from 'kysely';
import type { AuditEntryTable, Database, Db } from '../store/db.js';
import { canonicalJson, sha256Hex, toJsonValue } from './canonical.js';
import type { AuditEntry, AuditVerification } from './schemas.js';

/** prev_hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

// PostgreSQL advisory lock key serializing appenders across connections and bridge replicas ("audi" in ASCII).
const APPEND_LOCK = 0x61756469;

export interface NewAuditEntry {
  /** A person, `system`, or the service account. */
  actor: string;
  /** What happened, `noun.verb`: `vote.recorded`, `approval.decided`, `effect.failed`, ... */
  action: string;
  channel?: string | null;
  approval_id?: string | null;
  reason?: string | null;
  details?: Record<string, unknown>;
  /** ISO time; now when omitted. */
  at?: string;
}

export interface AuditListOptions {
  approval_id?: string | undefined;
  after_seq?: number | undefined;
  limit: number;
}

/** Covers every field but the hash itself, including the previous hash, so altering any entry breaks the chain there. */
export function entryHash(entry: Omit<AuditEntry, 'hash'>): string {
  const { seq, at, actor, action, channel, approval_id, reason, details, prev_hash } = entry;
  return sha256Hex(canonicalJson({ seq, at, actor, action, channel, approval_id, reason, details, prev_hash }));
}

const toEntry = (row: Selectable<AuditEntryTable>): AuditEntry => ({
  ...row,
  details: JSON.parse(row.details) as Record<string, unknown>,
});

function hashMatches(row: Selectable<AuditEntryTable>): boolean {
  try {
    return entryHash(toEntry(row)) === row.hash;
  } catch {
    return false; // details no longer parse: altered
  }
}

/** Append-only, hash-chained record of everything the bridge and people did. */
export class AuditTrail {
  constructor(
    private readonly db: Db,
    /** Entries read per query while verifying, so the whole trail is never held in memory. */
    private readonly verifyPageSize = 1000,
  ) {}

  /**
   * Appends inside `executor` when it is a transaction, so the entry commits or rolls back with the change it records;
   * otherwise in a transaction of its own. On PostgreSQL the append holds a lock until that transaction ends:
   * append last in a transaction, after its other writes, to keep that window short and lock order uniform.
   */
  async append(executor: Transaction<Database> | Kysely<Database>, entry: NewAuditEntry): Promise<AuditEntry> {
    if (executor.isTransaction) return this.appendIn(executor, entry);
    return executor.transaction().execute((tx) => this.appendIn(tx, entry));
  }

  async list(options: AuditListOptions): Promise<{ items: AuditEntry[]; next_cursor: string | null }> {
    let select = this.db.selectFrom('audit_entry').selectAll();
    if (options.approval_id) select = select.where('approval_id', '=', options.approval_id);
    if (options.after_seq !== undefined) select = select.where('seq', '>', options.after_seq);
    const rows = await select.orderBy('seq').limit(options.limit + 1).execute();
    const page = rows.slice(0, options.limit).map(toEntry);
    const last = page.at(-1);
    return { items: page, next_cursor: rows.length > options.limit && last ? String(last.seq) : null };
  }

  /** Walks the whole trail in seq order and stops at the first entry that is missing, altered or mislinked. */
  async verify(): Promise<AuditVerification> {
    let expectedSeq = 1;
    let prevHash = GENESIS_HASH;
    let checked = 0;
    for (;;) {
      let page = this.db.selectFrom('audit_entry').selectAll();
      // The first page has no lower bound, so even a row moved below seq 1 is seen.
      if (checked > 0) page = page.where('seq', '>=', expectedSeq);
      const rows = await page.orderBy('seq').limit(this.verifyPageSize).execute();
      for (const row of rows) {
        checked++;
        // A gap reports the missing seq; a row below the expected one reports itself.
        if (row.seq !== expectedSeq) return { ok: false, checked, first_bad_seq: Math.min(row.seq, expectedSeq) };
        if (row.prev_hash !== prevHash || !hashMatches(row)) return { ok: false, checked, first_bad_seq: row.seq };
        prevHash = row.hash;
        expectedSeq++;
      }
      if (rows.length < this.verifyPageSize) return { ok: true, checked, first_bad_seq: null };
    }
  }

  private async appendIn(tx: Kysely<Database>, entry: NewAuditEntry): Promise<AuditEntry> {
    // SQLite needs nothing more: its single connection runs one transaction at a time.
    if (tx.getExecutor().adapter instanceof PostgresAdapter) {
      await sql`select pg_advisory_xact_lock(${sql.lit(APPEND_LOCK)})`.execute(tx);
    }
    const last = await tx.selectFrom('audit_entry').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    const unhashed = {
      seq: (last?.seq ?? 0) + 1,
      at: new Date(entry.at ?? Date.now()).toISOString(),
      actor: entry.actor,
      action: entry.action,
      channel: entry.channel ?? null,
      approval_id: entry.approval_id ?? null,
      reason: entry.reason ?? null,
      details: toJsonValue(entry.details ?? {}),
      prev_hash: last?.hash ?? GENESIS_HASH,
    };
    const stored = { ...unhashed, hash: entryHash(unhashed) };
    await tx
      .insertInto('audit_entry')
      .values({ ...stored, details: canonicalJson(stored.details) })
      .execute();
    return stored;
  }
}
