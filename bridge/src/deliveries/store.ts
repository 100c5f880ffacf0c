import { randomUUID } from 'node:crypto';
import { type Kysely, PostgresAdapter, type Selectable, type Transaction } from 'kysely';
import type { ChannelName } from '../channels/config.js';
import type { Database, DeliveryTable } from '../store/db.js';
import type { AddressBook } from './addresses.js';

type Executor = Kysely<Database> | Transaction<Database>;
export type DeliveryRow = Selectable<DeliveryTable>;

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

/**
 * Leases up to `limit` queued deliveries that are due, atomically: one UPDATE whose row selection skips rows
 * another replica holds (PostgreSQL FOR UPDATE SKIP LOCKED) or leased and not yet expired, so two workers
 * never send the same delivery while a lease lasts, and a crashed worker's rows come back when it expires.
 */
export async function claimDeliveries(db: Kysely<Database>, owner: string, now: Date, leaseMs: number, limit: number): Promise<DeliveryRow[]> {
  const at = now.toISOString();
  let due = db
    .selectFrom('delivery')
    .select('id')
    .where('state', '=', 'queued')
    .where('next_attempt_at', '<=', at)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', at)]))
    .orderBy('id')
    .limit(limit);
  if (db.getExecutor().adapter instanceof PostgresAdapter) due = due.forUpdate().skipLocked();
  const rows = await db
    .updateTable('delivery')
    .set({ lease_owner: owner, lease_until: new Date(now.getTime() + leaseMs).toISOString() })
    .where('id', 'in', due)
    .returningAll()
    .execute();
  return rows.sort((a, b) => a.id - b.id);
}
