import SQLite from 'better-sqlite3';
import { type Generated, Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { migrations, renameFormerMigrations } from './migrations.js';

export interface ApprovalTable {
  id: string;
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  try_number: number;
  subject: string;
  body: string | null;
  /** JSON array of option labels. */
  options: string;
  /** JSON object: the HITL form's params schema. */
  params: string;
  state: string;
  policy: string | null;
  level: number;
  created_at: string;
  due_at: string | null;
  decided_at: string | null;
  /** JSON `{option, params_input}` once final. */
  outcome: string | null;
  /** Who triggered the run (Airflow user name); self-approval rules compare against it. */
  requester: string | null;
  /** JSON array: the DAG's tags. */
  tags: string;
  /** JSON object: the values policy conditions see (run conf and form defaults). */
  request_values: string;
  policy_version: string | null;
  /** 1 when a sensor waits for the decision: there is no HITL task to answer. */
  external: Generated<number>;
  /** JSON array of signals to publish once decided (approvals/signals.ts). */
  signals: Generated<string>;
  /** JSON array: the DAG's owners, who may count as requester of a run nobody triggered. */
  owners: Generated<string>;
  /** When Airflow's response_timeout ends the wait; `due_at` is the policy's own deadline. */
  timeout_at: string | null;
  /** JSON `{by, reason, at, review_id}` once someone broke the glass on it. */
  bypass: string | null;
  /** JSON `{approval_id, policy, by, reason}` on a break-glass review: the bypass it reviews. */
  review_of: string | null;
  /** Who claimed the pending approval in the review queue, and until when (ISO); an expired claim holds nothing. */
  claimed_by: string | null;
  claimed_until: string | null;
  /** The signed decision receipt (a compact JWS) once final; written in the decision's transaction. */
  receipt: Generated<string | null>;
}

export interface VoteTable {
  id: Generated<number>;
  approval_id: string;
  user: string;
  option: string;
  reason: string | null;
  channel: string;
  at: string;
  params_input: string | null;
  idempotency_key: string | null;
  level: number;
  /** The voter's Airflow role then: role approvers are counted by it. */
  role: string | null;
  /** 1 once the same person voted again at the same level. */
  replaced: number;
  /** The digest of the content the voter saw (approvals/content.ts); null on votes from before it was kept. */
  content_digest: Generated<string | null>;
  /** The delegator whose seat a deputy's vote fills; null for a vote in the voter's own name. */
  on_behalf_of: string | null;
}

export interface EffectTable {
  id: Generated<number>;
  approval_id: string;
  kind: string;
  /** JSON: what to send to Airflow. */
  payload: string;
  state: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  done_at: string | null;
  /** When an answer_hitl effect's task entered awaiting_input (Airflow's event log). */
  parked_at: string | null;
}

export interface AuditEntryTable {
  /** Assigned by the audit trail (last + 1), contiguous from 1. */
  seq: number;
  at: string;
  actor: string;
  action: string;
  channel: string | null;
  approval_id: string | null;
  reason: string | null;
  /** Canonical JSON object. */
  details: string;
  prev_hash: string;
  /** HMAC-SHA256 hex (audit key) over the entry and prev_hash; plain sha256 before audit_key.keyed_from. */
  hash: string;
}

/** One row: from which seq entries are keyed, signed with the audit key so it cannot be moved. */
export interface AuditKeyTable {
  id: number;
  keyed_from: number;
  mac: string;
}

export interface ActionConfirmationTable {
  /** Random, unguessable; what the person sends back to confirm. */
  token: string;
  user: string;
  /** JSON: the ActionRequest as prepared. */
  request: string;
  effect: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

/** A message to one recipient (a user, or `role:NAME` when a role is addressed) as GET /api/v1/messages shows it. */
export interface NotificationTable {
  id: string;
  approval_id: string;
  /** request | reminder | escalation | sla_warning | sla_breach | deadline | decided */
  kind: string;
  recipient: string;
  subject: string;
  text: string;
  created_at: string;
}

/** One channel's attempt chain for one notification. */
export interface DeliveryTable {
  id: Generated<number>;
  notification_id: string;
  channel: string;
  /** Where the channel sends it: an email address, Slack user id, webhook URL; the recipient for `messages`. */
  address: string;
  /** queued | sent | failed */
  state: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
  /** The failed delivery this one replaces on the fallback channel. */
  fallback_of: number | null;
  lease_owner: string | null;
  lease_until: string | null;
}

export interface LinkUseTable {
  jti: string;
  approval_id: string;
  user: string;
  used_at: string;
}

export interface TimerTable {
  id: Generated<number>;
  approval_id: string;
  /** notify | reminder | escalation | sla_warning | deadline */
  kind: string;
  /** What makes the timer unique within its kind (level, step, reminder time). */
  key: string;
  due_at: string;
  /** pending | fired | cancelled */
  state: string;
  attempts: number;
  lease_owner: string | null;
  lease_until: string | null;
  fired_at: string | null;
  last_error: string | null;
}

export interface ApprovalEscalationTable {
  id: Generated<number>;
  approval_id: string;
  level: number;
  /** Index of the policy's escalation step that added them. */
  step: number;
  /** A user name, or `role:NAME`. */
  approver: string;
  reason: string;
  at: string;
}

export interface HookDeliveryTable {
  source: string;
  delivery_id: string;
  received_at: string;
  /** The answer given, once the delivery was handled; null while it is being handled. */
  status: number | null;
  /** JSON body of that answer. */
  response: string | null;
}

/** A vote that arrived while Airflow could not say whether its voter may decide; counted once Airflow answers. */
export interface DeferredVoteTable {
  id: Generated<number>;
  approval_id: string;
  user: string;
  role: string | null;
  option: string;
  reason: string | null;
  params_input: string | null;
  channel: string;
  /** The client's key, or one the bridge made: the vote is recorded once however often it is retried. */
  idempotency_key: string;
  /** The voter's Airflow token, sealed (identity/sealed.ts): Airflow is asked with it once it answers again. */
  token_sealed: string;
  received_at: string;
  attempts: number;
  lease_owner: string | null;
  lease_until: string | null;
  last_error: string | null;
}

/** A version of the policies file: proposed, then approved by someone other than its author, or rejected. */
export interface PolicyVersionTable {
  /** The text's version (policies/load.ts `versionOf`), so one text is one row however often it is proposed. */
  version: string;
  text: string;
  /** Where the text came from: `api`, or the watched file's path. */
  source: string;
  /** The person who proposed it; null for a file edit, which names nobody. */
  proposed_by: string | null;
  proposed_at: string;
  /** The version in force when it was proposed: what its diff is against, and what approving it replaces. */
  base_version: string | null;
  reason: string | null;
  state: 'pending' | 'approved' | 'rejected';
  decided_by: string | null;
  decided_at: string | null;
  decision_reason: string | null;
}

/** A person's vote handed to a deputy for a period, made through the API (the policies file's are not stored). */
export interface DelegationTable {
  id: string;
  delegator: string;
  deputy: string;
  starts_at: string;
  ends_at: string;
  /** JSON array of policy names it is limited to; null for every policy. */
  policies: string | null;
  reason: string;
  created_at: string;
  revoked_at: string | null;
  revoked_by: string | null;
}

export interface Database {
  approval: ApprovalTable;
  vote: VoteTable;
  effect: EffectTable;
  audit_entry: AuditEntryTable;
  audit_key: AuditKeyTable;
  action_confirmation: ActionConfirmationTable;
  notification: NotificationTable;
  delivery: DeliveryTable;
  link_use: LinkUseTable;
  timer: TimerTable;
  approval_escalation: ApprovalEscalationTable;
  hook_delivery: HookDeliveryTable;
  deferred_vote: DeferredVoteTable;
  policy_version: PolicyVersionTable;
  delegation: DelegationTable;
}

export type Db = Kysely<Database>;

/** SQLite file by default (embedded, one process); PostgreSQL when `databaseUrl` is a postgres URL. */
export function createDb(options: {
  databaseUrl?: string | undefined;
  sqliteFile: string;
  /** An idle PostgreSQL connection broke (the store restarted or the network dropped it). */
  onIdleError?: (err: Error) => void;
}): Db {
  if (options.databaseUrl?.startsWith('postgres')) {
    // A connection that cannot be made in a few seconds fails the request (503) instead of holding it.
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10, connectionTimeoutMillis: 5000 });
    // The pool drops a broken idle client and the next query connects again; without a listener the
    // 'error' event would end the process, so a store restart would take every replica down with it.
    pool.on('error', (err) => options.onIdleError?.(err));
    // The pool listens only to idle clients: a client in use (a query or transaction under way) whose connection
    // breaks emits 'error' with no listener, which ends the process. Its queries are rejected with that error
    // already (the request answers 503) and the pool drops the broken client when it is released.
    pool.on('connect', (client) => client.on('error', () => undefined));
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  const sqlite = new SQLite(options.sqliteFile);
  // WAL lets readers proceed while the single writer commits; busy_timeout waits out short write locks.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
}

export async function migrate(db: Db): Promise<void> {
  await renameFormerMigrations(db);
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`store migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
}

// Node's socket errors and PostgreSQL's SQLSTATE classes 08 (connection exception) and 57P (operator
// intervention: shutdown, crash, cannot connect now): the store is unreachable, the request changed nothing.
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);
const UNREACHABLE_MESSAGES = ['Connection terminated', 'timeout exceeded when trying to connect', 'Client has encountered a connection error'];

/** Whether `err` says the store could not be reached (as opposed to a query the store refused). */
/** Whether the store answers a query at all (readiness). */
export async function ping(db: Db): Promise<void> {
  await db.selectFrom('approval').select('id').limit(1).execute();
}

export function isStoreUnreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || code.startsWith('08') || code.startsWith('57P'))) return true;
  if (err instanceof AggregateError) return err.errors.some(isStoreUnreachable);
  return UNREACHABLE_MESSAGES.some((m) => err.message.includes(m));
}

/** A set of DAG ids for an SQL `in` list, which cannot be empty: no DAG has the id ''. */
export const dagIdList = (dagIds: ReadonlySet<string>): string[] => (dagIds.size > 0 ? [...dagIds] : ['']);
