import type { Selectable } from 'kysely';
import { type Db, type DeliveryTable, dagIdList } from '../store/db.js';
import type { Delivery, DeliveryListQuery, MessageListQuery, Message } from './schemas.js';

const encode = (created_at: string, id: string) => Buffer.from(`${created_at}|${id}`).toString('base64url');
function decode(cursor: string): { created_at: string; id: string } | null {
  const [created_at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  return created_at && id ? { created_at, id } : null;
}

/** The messages: every stored message about the `readable` DAGs, newest first, with how each of its deliveries stands. */
export async function listMessages(
  db: Db,
  query: MessageListQuery,
  readable: ReadonlySet<string>,
): Promise<{ items: Message[]; next_cursor: string | null }> {
  let select = db
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
    ? await db.selectFrom('delivery').selectAll().where('notification_id', 'in', page.map((n) => n.id)).orderBy('id').execute()
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

const toDelivery = (d: Selectable<DeliveryTable> & { approval_id: string; recipient: string }, showAddress: boolean): Delivery => ({
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

/**
 * Delivery rows about the `readable` DAGs, newest first; `state=failed` lists what never reached its channel.
 * Addresses (emails, Slack ids, Teams URLs: bearer secrets) only when `showAddresses`.
 */
export async function listDeliveries(
  db: Db,
  query: DeliveryListQuery,
  readable: ReadonlySet<string>,
  showAddresses: boolean,
): Promise<{ items: Delivery[]; next_cursor: string | null }> {
  let select = db
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

/** Deliveries by state, for the metrics scrape. */
export async function deliveryCounts(db: Db): Promise<{ queued: number; failed: number }> {
  const rows = await db
    .selectFrom('delivery')
    .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
    .where('state', 'in', ['queued', 'failed'])
    .groupBy('state')
    .execute();
  const count = (state: string) => Number(rows.find((r) => r.state === state)?.n ?? 0);
  return { queued: count('queued'), failed: count('failed') };
}
