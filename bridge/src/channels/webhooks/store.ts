import type { Db } from '../../store/db.js';

/** The answer given to a delivery, kept to replay it. */
export interface HookAnswer {
  status: number;
  body: unknown;
}

/** Which inbound webhook deliveries (by source and delivery id) were seen, and what each was answered. */
export interface HookDeliveryStore {
  /** Takes the delivery id for handling; false when it was seen before (answered, or still being handled). */
  claim(source: string, deliveryId: string, receivedAt: string): Promise<boolean>;
  /** The first answer to a seen delivery; null while it is still being handled. */
  firstAnswer(source: string, deliveryId: string): Promise<HookAnswer | null>;
  /** Forgets the delivery, so the sender's retry is handled anew. */
  release(source: string, deliveryId: string): Promise<void>;
  record(source: string, deliveryId: string, answer: HookAnswer): Promise<void>;
}

export class SqlHookDeliveryStore implements HookDeliveryStore {
  constructor(private readonly db: Db) {}

  async claim(source: string, deliveryId: string, receivedAt: string) {
    // Insert-or-nothing on the primary key: of two concurrent deliveries with one id, exactly one is handled.
    const claimed = await this.db
      .insertInto('hook_delivery')
      .values({ source, delivery_id: deliveryId, received_at: receivedAt, status: null, response: null })
      .onConflict((oc) => oc.columns(['source', 'delivery_id']).doNothing())
      .returning('delivery_id')
      .executeTakeFirst();
    return claimed !== undefined;
  }

  async firstAnswer(source: string, deliveryId: string) {
    const seen = await this.db.selectFrom('hook_delivery').selectAll().where('source', '=', source).where('delivery_id', '=', deliveryId).executeTakeFirstOrThrow();
    return seen.status === null ? null : { status: seen.status, body: JSON.parse(seen.response ?? '{}') as unknown };
  }

  async release(source: string, deliveryId: string) {
    await this.db.deleteFrom('hook_delivery').where('source', '=', source).where('delivery_id', '=', deliveryId).execute();
  }

  async record(source: string, deliveryId: string, answer: HookAnswer) {
    await this.db
      .updateTable('hook_delivery')
      .set({ status: answer.status, response: JSON.stringify(answer.body) })
      .where('source', '=', source)
      .where('delivery_id', '=', deliveryId)
      .execute();
  }
}
