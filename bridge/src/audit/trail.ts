import { createHmac } from 'node:crypto';
import { type Kysely, PostgresAdapter, type Selectable, type Transaction, sql } from 'kysely';
import { sameSignature } from '../channels/signatures.js';
import { type AuditEntryTable, type Database, type Db, dagIdList } from '../store/db.js';
import { canonicalJson, sha256Hex, toJsonValue } from './canonical.js';
import { Checkpoint, type CheckpointStore } from './checkpoint.js';
import type { AuditEntry, AuditProblem, AuditVerification } from './schemas.js';

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
  /** Entries about this DAG: its approvals' and the actions naming it. */
  dag_id?: string | undefined;
  action?: string | undefined;
  actor?: string | undefined;
  /** ISO times: entries at or after `since`, before `until`. */
  since?: string | undefined;
  until?: string | undefined;
  after_seq?: number | undefined;
  limit: number;
  /** Only entries of these DAGs' approvals and actions, and entries of no DAG (policy reloads); all when omitted. */
  readable?: ReadonlySet<string> | undefined;
}

// dagOf in SQL, for the DAG filter: the DAG an entry's details name, directly or in an action's request.
const DAG_NAMED_SQLITE = sql<string>`coalesce(json_extract(details, '$.dag_id'), json_extract(details, '$.request.dag_id'))`;
const DAG_NAMED_PG = sql<string>`coalesce(details::jsonb ->> 'dag_id', details::jsonb -> 'request' ->> 'dag_id')`;

/** The DAG an entry without an approval is about: an action's request names it. */
function dagOf(entry: AuditEntry): string | null {
  const request = entry.details.request as { dag_id?: unknown } | undefined;
  const dagId = entry.details.dag_id ?? request?.dag_id;
  return typeof dagId === 'string' ? dagId : null;
}

/**
 * Covers every field but the hash itself, including the previous hash, so altering any entry breaks the chain there.
 * Keyed (HMAC-SHA256 with the audit key, which the store does not hold), so whoever can write the store cannot
 * recompute the hashes after a rewrite; `null` is the plain sha256 of entries written before the store had a key.
 */
export function entryHash(entry: Omit<AuditEntry, 'hash'>, key: Uint8Array | null): string {
  const { seq, at, actor, action, channel, approval_id, reason, details, prev_hash } = entry;
  const text = canonicalJson({ seq, at, actor, action, channel, approval_id, reason, details, prev_hash });
  return key ? createHmac('sha256', key).update(text).digest('hex') : sha256Hex(text);
}

const macOf = (key: Uint8Array, value: Record<string, unknown>) => createHmac('sha256', key).update(canonicalJson(value)).digest('hex');

const toEntry = (row: Selectable<AuditEntryTable>): AuditEntry => ({
  ...row,
  details: JSON.parse(row.details) as Record<string, unknown>,
});

function hashMatches(row: Selectable<AuditEntryTable>, key: Uint8Array | null): boolean {
  try {
    return entryHash(toEntry(row), key) === row.hash;
  } catch {
    return false; // details no longer parse: altered
  }
}

export interface AuditTrailOptions {
  /** Where the chain's head is checkpointed outside the store; null: no checkpoint (truncation goes unseen). */
  checkpoints?: CheckpointStore | null;
  /** Entries read per query while verifying, so the whole trail is never held in memory. */
  verifyPageSize?: number;
  now?: () => Date;
}

type Broken = { checked: number; first_bad_seq: number | null; problem: AuditProblem };

/** Append-only, keyed hash chain of everything the bridge and people did. */
export class AuditTrail {
  private readonly checkpoints: CheckpointStore | null;
  private readonly verifyPageSize: number;
  private readonly now: () => Date;

  constructor(
    private readonly db: Db,
    /** AIRGATE_AUDIT_KEY: a secret the bridge holds and the store does not. */
    private readonly key: Uint8Array,
    options: AuditTrailOptions = {},
  ) {
    this.checkpoints = options.checkpoints ?? null;
    this.verifyPageSize = options.verifyPageSize ?? 1000;
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Run once at start, after the migrations: records (signed) from which seq entries are keyed. A store written
   * before the key existed keeps its plain-sha256 entries as they are (rehashing them would launder any earlier
   * rewrite); the first keyed entry's link to them protects them from then on.
   */
  async init(): Promise<void> {
    if (await this.db.selectFrom('audit_key').select('keyed_from').executeTakeFirst()) return;
    const checkpoint = await this.readCheckpoint();
    const last = await this.db.selectFrom('audit_entry').select(['seq', 'hash', 'at', 'actor', 'action', 'channel', 'approval_id', 'reason', 'details', 'prev_hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    // A missing row over a chain that is already keyed was deleted: every entry must then be keyed.
    const keyedAlready = last !== undefined && hashMatches(last, this.key);
    const keyed_from = checkpoint.ok && checkpoint.value ? checkpoint.value.keyed_from : keyedAlready ? 1 : (last?.seq ?? 0) + 1;
    await this.db
      .insertInto('audit_key')
      .values({ id: 1, keyed_from, mac: macOf(this.key, { keyed_from }) })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  /** Writes the chain's head to the checkpoint store (no-op without one). */
  async checkpoint(): Promise<void> {
    if (!this.checkpoints) return;
    const head = await this.db.selectFrom('audit_entry').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    const unsigned = { seq: head?.seq ?? 0, hash: head?.hash ?? GENESIS_HASH, at: this.now().toISOString(), keyed_from: await this.keyedFrom() };
    await this.checkpoints.write({ ...unsigned, mac: macOf(this.key, unsigned) });
  }

  /**
   * Appends inside `executor` when it is a transaction, so the entry commits or rolls back with the change it records;
   * otherwise in a transaction of its own. On PostgreSQL the append holds a lock until that transaction ends:
   * append last in a transaction, after its other writes, to keep that window short and lock order uniform.
   */
  async append(executor: Transaction<Database> | Kysely<Database>, entry: NewAuditEntry): Promise<AuditEntry> {
    return (await this.appendAll(executor, [entry]))[0]!;
  }

  /** Appends several entries, in order, taking the chain's lock and reading its head once (see append). */
  async appendAll(executor: Transaction<Database> | Kysely<Database>, entries: readonly NewAuditEntry[]): Promise<AuditEntry[]> {
    if (entries.length === 0) return [];
    if (executor.isTransaction) return this.appendIn(executor, entries);
    return executor.transaction().execute((tx) => this.appendIn(tx, entries));
  }

  async list(options: AuditListOptions): Promise<{ items: AuditEntry[]; next_cursor: string | null }> {
    let select = this.db.selectFrom('audit_entry').selectAll();
    if (options.approval_id) select = select.where('approval_id', '=', options.approval_id);
    if (options.action) select = select.where('action', '=', options.action);
    if (options.actor) select = select.where('actor', '=', options.actor);
    // Entries store `at` as ISO text in UTC (toISOString), so the bounds compare as text once normalised the same way.
    if (options.since) select = select.where('at', '>=', new Date(options.since).toISOString());
    if (options.until) select = select.where('at', '<', new Date(options.until).toISOString());
    const dagId = options.dag_id;
    if (dagId) {
      const named = this.db.getExecutor().adapter instanceof PostgresAdapter ? DAG_NAMED_PG : DAG_NAMED_SQLITE;
      select = select.where((eb) =>
        eb.or([
          eb('approval_id', 'in', eb.selectFrom('approval').select('id').where('dag_id', '=', dagId)),
          eb.and([eb('approval_id', 'is', null), eb(named, '=', dagId)]),
        ]),
      );
    }
    if (options.after_seq !== undefined) select = select.where('seq', '>', options.after_seq);
    const { readable } = options;
    if (readable) {
      select = select.where((eb) =>
        eb.or([eb('approval_id', 'is', null), eb('approval_id', 'in', eb.selectFrom('approval').select('id').where('dag_id', 'in', dagIdList(readable)))]),
      );
    }
    const rows = await select.orderBy('seq').limit(options.limit + 1).execute();
    const page = rows.slice(0, options.limit).map(toEntry);
    const last = page.at(-1);
    // A page may hold fewer than `limit` entries: those about an action on an unreadable DAG are left out here.
    const items = readable ? page.filter((e) => e.approval_id !== null || dagOf(e) === null || readable.has(dagOf(e)!)) : page;
    return { items, next_cursor: rows.length > options.limit && last ? String(last.seq) : null };
  }

  /**
   * Walks the whole trail in seq order and stops at the first entry that is missing, altered (its keyed hash does
   * not match, even when every later hash was recomputed) or mislinked; then compares the end of the chain with the
   * checkpoint, which finds entries removed from the end.
   */
  async verify(): Promise<AuditVerification> {
    const keyed_from = await this.keyedFrom();
    const checkpoint = await this.readCheckpoint();
    const cp = checkpoint.ok && checkpoint.value ? { seq: checkpoint.value.seq, at: checkpoint.value.at } : null;
    const result = (broken: Broken | null, head_seq: number): AuditVerification => ({
      ok: broken === null,
      checked: broken?.checked ?? head_seq,
      first_bad_seq: broken?.first_bad_seq ?? null,
      problem: broken?.problem ?? null,
      head_seq,
      keyed_from,
      checkpoint: cp,
    });
    let expectedSeq = 1;
    let prevHash = GENESIS_HASH;
    let checked = 0;
    const hashes = new Map<number, string>();
    for (;;) {
      let page = this.db.selectFrom('audit_entry').selectAll();
      // The first page has no lower bound, so even a row moved below seq 1 is seen.
      if (checked > 0) page = page.where('seq', '>=', expectedSeq);
      const rows = await page.orderBy('seq').limit(this.verifyPageSize).execute();
      for (const row of rows) {
        checked++;
        // A gap reports the missing seq; a row below the expected one reports itself.
        if (row.seq !== expectedSeq) return result({ checked, first_bad_seq: Math.min(row.seq, expectedSeq), problem: 'missing' }, row.seq);
        if (!hashMatches(row, row.seq >= keyed_from ? this.key : null)) return result({ checked, first_bad_seq: row.seq, problem: 'altered' }, row.seq);
        if (row.prev_hash !== prevHash) return result({ checked, first_bad_seq: row.seq, problem: 'mislinked' }, row.seq);
        if (cp && row.seq === cp.seq) hashes.set(row.seq, row.hash);
        prevHash = row.hash;
        expectedSeq++;
      }
      if (rows.length < this.verifyPageSize) break;
    }
    const head_seq = expectedSeq - 1;
    if (!checkpoint.ok) return result({ checked, first_bad_seq: null, problem: 'checkpoint_invalid' }, head_seq);
    const mark = checkpoint.value;
    if (mark && mark.seq > head_seq) return result({ checked, first_bad_seq: head_seq + 1, problem: 'truncated' }, head_seq);
    if (mark && mark.seq > 0 && hashes.get(mark.seq) !== mark.hash) return result({ checked, first_bad_seq: mark.seq, problem: 'checkpoint_mismatch' }, head_seq);
    return result(null, head_seq);
  }

  /** The signed boundary init() recorded; 1 (every entry keyed) when there is none or its signature fails. */
  private async keyedFrom(): Promise<number> {
    const row = await this.db.selectFrom('audit_key').select(['keyed_from', 'mac']).executeTakeFirst();
    return row && sameSignature(macOf(this.key, { keyed_from: row.keyed_from }), row.mac) ? row.keyed_from : 1;
  }

  private async readCheckpoint(): Promise<{ ok: true; value: Checkpoint | null } | { ok: false }> {
    if (!this.checkpoints) return { ok: true, value: null };
    const raw = await this.checkpoints.read();
    if (raw === null) return { ok: true, value: null };
    const parsed = Checkpoint.safeParse(raw);
    if (!parsed.success) return { ok: false };
    const { mac, ...unsigned } = parsed.data;
    return sameSignature(macOf(this.key, unsigned), mac) ? { ok: true, value: parsed.data } : { ok: false };
  }

  private async appendIn(tx: Kysely<Database>, entries: readonly NewAuditEntry[]): Promise<AuditEntry[]> {
    // SQLite needs nothing more: its single connection runs one transaction at a time.
    if (tx.getExecutor().adapter instanceof PostgresAdapter) {
      await sql`select pg_advisory_xact_lock(${sql.lit(APPEND_LOCK)})`.execute(tx);
    }
    const last = await tx.selectFrom('audit_entry').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    let seq = last?.seq ?? 0;
    let prevHash = last?.hash ?? GENESIS_HASH;
    const stored = entries.map((entry) => {
      const unhashed = {
        seq: ++seq,
        at: new Date(entry.at ?? Date.now()).toISOString(),
        actor: entry.actor,
        action: entry.action,
        channel: entry.channel ?? null,
        approval_id: entry.approval_id ?? null,
        reason: entry.reason ?? null,
        details: toJsonValue(entry.details ?? {}),
        prev_hash: prevHash,
      };
      const hashed = { ...unhashed, hash: entryHash(unhashed, this.key) };
      prevHash = hashed.hash;
      return hashed;
    });
    await tx
      .insertInto('audit_entry')
      .values(stored.map((e) => ({ ...e, details: canonicalJson(e.details) })))
      .execute();
    return stored;
  }
}
