import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { ChannelName } from '../channels/config.js';
import { type Database, type Db, type DeliveryTable, type NotificationTable, dagIdList } from '../store/db.js';
import { claimDue } from '../store/leases.js';
import type { AddressBook } from './addresses.js';
import type { Delivery, DeliveryListQuery, Message, MessageListQuery } from './schemas.js';

type Executor = Kysely<Database> | Transaction<Database>;
export type DeliveryRow = Selectable<DeliveryTable>;
export type NotificationRow = Selectable<NotificationTable>;

/** What a failed send leaves: `failed` for good, or `queued` again at `retryAt`. */
export interface DeliveryFailure {
  attempts: number;
  giveUp: boolean;
  error: string;
  retryAt: string;
}

export interface DeliveryStore {
  /**
   * Leases up to `limit` queued deliveries that are due, oldest first, skipping those leased and not yet expired:
   * two workers never send the same delivery while a lease lasts, and a crashed worker's come back when it expires.
   */
  claim(owner: string, now: Date, leaseMs: number, limit: number): Promise<DeliveryRow[]>;
  notification(id: string): Promise<NotificationRow>;
  /** Marks a delivery sent after its `attempts`-th attempt, if `owner` still leases it. */
  markSent(id: number, owner: string, attempts: number, at: string): Promise<void>;
  /**
   * Records a failed send in `tx` and ends the lease, if `owner` still holds it; false when another worker took the
   * delivery over (the outcome is theirs to record).
   */
  markFailed(tx: Transaction<Database>, id: number, owner: string, failure: DeliveryFailure): Promise<boolean>;
  /** The messages: every stored message about the `readable` DAGs, newest first, with how each of its deliveries stands. */
  listMessages(query: MessageListQuery, readable: ReadonlySet<string>): Promise<{ items: Message[]; next_cursor: string | null }>;
  /**
   * Delivery rows about the `readable` DAGs, newest first; `state=failed` lists what never reached its channel.
   * Addresses (emails, Slack ids, Teams URLs: bearer secrets) only when `showAddresses`.
   */
  listDeliveries(query: DeliveryListQuery, readable: ReadonlySet<string>, showAddresses: boolean): Promise<{ items: Delivery[]; next_cursor: string | null }>;
  /** Every delivery of one approval's messages, oldest first, without addresses. */
  deliveriesOf(approvalId: string): Promise<Delivery[]>;
  /** Deliveries by state, for the metrics scrape. */
  counts(): Promise<{ queued: number; failed: number }>;
}

const encode = (created_at: string, id: string) => Buffer.from(`${created_at}|${id}`).toString('base64url');
function decode(cursor: string): { created_at: string; id: string } | null {
  const [created_at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  return created_at && id ? { created_at, id } : null;
}

const toDelivery = (d: DeliveryRow & { approval_id: string; recipient: string }, showAddress: boolean): Delivery => ({
  id: d.id,
  notification_id: d.notification_id,
  approval_id: d.approval_id,
  recipient: d.recipient,
  channel: d.channel,
  address: showAddress ? d.address : null,
  state: d.state as Delivery['state'],
  attempts: d.attempts,
  last_error: d.last_error,
  created_at: d.created_at,
  sent_at: d.sent_at,
  next_attempt_at: d.next_attempt_at,
  fallback_of: d.fallback_of,
});

export interface NewNotification {
  approval_id: string;
  /** The approval's policy: picks the channels. */
  policy: string | null;
  kind: string;
  recipient: string;
  subject: string;
  text: string;
}

/**
 * Stores `items` with one delivery per channel of their policy's route, in the caller's transaction. The
 * `messages` delivery is made by being stored. A channel that cannot reach the recipient is a failed delivery handed
 * at once to the fallback, so no message disappears because an address is missing.
 */
export async function enqueueNotifications(tx: Executor, book: AddressBook, items: NewNotification[], at: string): Promise<string[]> {
  const ids: string[] = [];
  for (const item of items) {
    const id = randomUUID();
    ids.push(id);
    const { policy, ...row } = item;
    await tx.insertInto('notification').values({ id, ...row, created_at: at }).execute();
    await insertDelivery(tx, { notification_id: id, channel: 'messages', address: item.recipient, state: 'sent', at });
    const route = book.channelsFor(policy);
    for (const channel of route.channels) {
      // Only Airflow knows who holds a role, so a role is addressed on `messages` (and the webhook, which takes
      // everything); a "failed" delivery for each role message on person channels would be noise, not a signal.
      if (item.recipient.startsWith('role:') && channel !== 'webhook') continue;
      const address = book.resolve(channel, item.recipient);
      if (address.ok) {
        await insertDelivery(tx, { notification_id: id, channel, address: address.address, state: 'queued', at });
      } else {
        const failed = await insertDelivery(tx, { notification_id: id, channel, address: '', state: 'failed', at, error: address.error });
        await handOver(tx, book, { id: failed, notification_id: id, channel }, item.recipient, route.fallback, at);
      }
    }
  }
  return ids;
}

/**
 * Queues the fallback for a delivery that gave up. A fallback is not handed over again, and when the fallback
 * is the failed channel itself (or cannot reach the recipient) the `messages` copy stands as the last resort.
 */
export async function handOver(
  tx: Executor,
  book: AddressBook,
  failed: { id: number; notification_id: string; channel: string },
  recipient: string,
  fallback: ChannelName,
  at: string,
): Promise<number | null> {
  if (fallback === failed.channel) return null;
  const address = book.resolve(fallback, recipient);
  if (!address.ok) return null;
  return insertDelivery(tx, {
    notification_id: failed.notification_id,
    channel: fallback,
    address: address.address,
    // The bridge's list already holds the message: handing over to it is immediate.
    state: fallback === 'messages' ? 'sent' : 'queued',
    at,
    fallbackOf: failed.id,
  });
}

async function insertDelivery(
  tx: Executor,
  d: { notification_id: string; channel: string; address: string; state: 'queued' | 'sent' | 'failed'; at: string; error?: string; fallbackOf?: number },
): Promise<number> {
  const row = await tx
    .insertInto('delivery')
    .values({
      notification_id: d.notification_id,
      channel: d.channel,
      address: d.address,
      state: d.state,
      attempts: d.state === 'queued' ? 0 : 1,
      next_attempt_at: d.at,
      last_error: d.error ?? null,
      created_at: d.at,
      sent_at: d.state === 'sent' ? d.at : null,
      fallback_of: d.fallbackOf ?? null,
      lease_owner: null,
      lease_until: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export class SqlDeliveryStore implements DeliveryStore {
  constructor(private readonly db: Db) {}

  async claim(owner: string, now: Date, leaseMs: number, limit: number) {
    const at = now.toISOString();
    const due = this.db
      .selectFrom('delivery')
      .select('id')
      .where('state', '=', 'queued')
      .where('next_attempt_at', '<=', at)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', at)]))
      .orderBy('id')
      .limit(limit);
    return claimDue(
      this.db,
      due,
      (ids) =>
        this.db
          .updateTable('delivery')
          .set({ lease_owner: owner, lease_until: new Date(now.getTime() + leaseMs).toISOString() })
          .where('id', 'in', ids)
          .returningAll()
          .execute(),
      (a, b) => a.id - b.id,
    );
  }

  notification(id: string) {
    return this.db.selectFrom('notification').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  }

  async markSent(id: number, owner: string, attempts: number, at: string) {
    await this.db
      .updateTable('delivery')
      .set({ state: 'sent', attempts, sent_at: at, last_error: null, lease_owner: null, lease_until: null })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .execute();
  }

  async markFailed(tx: Transaction<Database>, id: number, owner: string, failure: DeliveryFailure) {
    const updated = await tx
      .updateTable('delivery')
      .set({
        state: failure.giveUp ? 'failed' : 'queued',
        attempts: failure.attempts,
        last_error: failure.error,
        next_attempt_at: failure.retryAt,
        lease_owner: null,
        lease_until: null,
      })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return updated.numUpdatedRows > 0n;
  }

  async listMessages(query: MessageListQuery, readable: ReadonlySet<string>) {
    let select = this.db
      .selectFrom('notification')
      .selectAll()
      .where('approval_id', 'in', (eb) => eb.selectFrom('approval').select('id').where('dag_id', 'in', dagIdList(readable)));
    if (query.approval_id) select = select.where('approval_id', '=', query.approval_id);
    if (query.recipient) select = select.where('recipient', '=', query.recipient);
    if (query.state || query.channel) {
      const { state, channel } = query;
      select = select.where(({ exists, selectFrom }) => {
        let deliveries = selectFrom('delivery').select('delivery.id').whereRef('delivery.notification_id', '=', 'notification.id');
        if (state) deliveries = deliveries.where('delivery.state', '=', state);
        if (channel) deliveries = deliveries.where('delivery.channel', '=', channel);
        return exists(deliveries);
      });
    }
    const after = query.cursor ? decode(query.cursor) : null;
    if (after) {
      select = select.where((eb) =>
        eb.or([eb('created_at', '<', after.created_at), eb.and([eb('created_at', '=', after.created_at), eb('id', '<', after.id)])]),
      );
    }
    const rows = await select.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit + 1).execute();
    const page = rows.slice(0, query.limit);
    const deliveries = page.length
      ? await this.db.selectFrom('delivery').selectAll().where('notification_id', 'in', page.map((n) => n.id)).orderBy('id').execute()
      : [];
    const last = page.at(-1);
    return {
      items: page.map((n) => ({
        ...n,
        deliveries: deliveries
          .filter((d) => d.notification_id === n.id)
          .map((d) => ({ id: d.id, channel: d.channel, state: d.state as Delivery['state'], attempts: d.attempts, last_error: d.last_error, sent_at: d.sent_at, fallback_of: d.fallback_of })),
      })),
      next_cursor: rows.length > query.limit && last ? encode(last.created_at, last.id) : null,
    };
  }

  async listDeliveries(query: DeliveryListQuery, readable: ReadonlySet<string>, showAddresses: boolean) {
    let select = this.db
      .selectFrom('delivery')
      .innerJoin('notification', 'notification.id', 'delivery.notification_id')
      .innerJoin('approval', 'approval.id', 'notification.approval_id')
      .selectAll('delivery')
      .select(['notification.approval_id', 'notification.recipient'])
      .where('approval.dag_id', 'in', dagIdList(readable));
    if (query.state) select = select.where('delivery.state', '=', query.state);
    if (query.channel) select = select.where('delivery.channel', '=', query.channel);
    if (query.approval_id) select = select.where('notification.approval_id', '=', query.approval_id);
    if (query.cursor) select = select.where('delivery.id', '<', Number(query.cursor));
    const rows = await select.orderBy('delivery.id', 'desc').limit(query.limit + 1).execute();
    const page = rows.slice(0, query.limit).map((d) => toDelivery(d, showAddresses));
    const last = page.at(-1);
    return { items: page, next_cursor: rows.length > query.limit && last ? String(last.id) : null };
  }

  async deliveriesOf(approvalId: string) {
    const rows = await this.db
      .selectFrom('delivery')
      .innerJoin('notification', 'notification.id', 'delivery.notification_id')
      .selectAll('delivery')
      .select(['notification.approval_id', 'notification.recipient'])
      .where('notification.approval_id', '=', approvalId)
      .orderBy('delivery.id')
      .execute();
    return rows.map((d) => toDelivery(d, false));
  }

  async counts() {
    const rows = await this.db
      .selectFrom('delivery')
      .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .where('state', 'in', ['queued', 'failed'])
      .groupBy('state')
      .execute();
    const count = (state: string) => Number(rows.find((r) => r.state === state)?.n ?? 0);
    return { queued: count('queued'), failed: count('failed') };
  }
}
