import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { PeriodicWorker } from '../workers/periodic.js';
import type { StoredApproval } from '../approvals/store.js';
import type { AuditTrail } from '../audit/trail.js';
import type { ChannelName } from '../channels/config.js';
import { PermanentDeliveryError, type Sender } from '../channels/types.js';
import type { Db } from '../store/db.js';
import type { AddressBook } from './addresses.js';
import { type DeliveryRow, type DeliveryStore, SqlDeliveryStore, handOver } from './store.js';

const MAX_BACKOFF_MS = 30 * 60_000;

export interface DeliveryWorkerOptions {
  db: Db;
  trail: AuditTrail;
  book: AddressBook;
  /** The enabled channels' senders; a delivery on a channel without one fails (and falls back). */
  senders: Partial<Record<ChannelName, Sender>>;
  loadApproval: (id: string) => Promise<StoredApproval | undefined>;
  log: Logger;
  maxAttempts: number;
  /** First retry delay; doubles with each attempt. */
  backoffMs: number;
  intervalMs?: number;
  /** Longer than any single send may take, so a live worker keeps what it claimed. */
  leaseMs?: number;
  now?: () => Date;
}

/**
 * Sends queued deliveries on their channels. A failure is retried with exponential backoff up to `maxAttempts`,
 * then the delivery is marked failed (visible in the API and metrics) and handed to the policy's fallback channel.
 */
export class DeliveryWorker extends PeriodicWorker {
  private readonly owner = randomUUID();
  private readonly now: () => Date;
  private readonly store: DeliveryStore;

  constructor(private readonly o: DeliveryWorkerOptions) {
    super(o.intervalMs ?? 1000, (err) => o.log.error({ err: String(err) }, 'delivery pass failed'));
    this.now = o.now ?? (() => new Date());
    this.store = new SqlDeliveryStore(o.db);
  }

  protected async pass() {
    for (;;) {
      const claimed = await this.store.claim(this.owner, this.now(), this.o.leaseMs ?? 60_000, 50);
      for (const row of claimed) await this.deliver(row);
      if (claimed.length < 50) return;
    }
  }

  private async deliver(row: DeliveryRow) {
    const notification = await this.store.notification(row.notification_id);
    const approval = await this.o.loadApproval(notification.approval_id);
    const sender = this.o.senders[row.channel as ChannelName];
    try {
      if (!approval) throw new PermanentDeliveryError(`approval ${notification.approval_id} not found`);
      if (!sender) throw new PermanentDeliveryError(`channel ${row.channel} is not enabled on this bridge`);
      await sender.send({ deliveryId: row.id, notification, approval, address: row.address });
      await this.store.markSent(row.id, this.owner, row.attempts + 1, this.now().toISOString());
    } catch (err) {
      const attempts = row.attempts + 1;
      const error = err instanceof Error ? err.message : String(err);
      const giveUp = err instanceof PermanentDeliveryError || attempts >= this.o.maxAttempts;
      this.o.log.warn({ delivery: row.id, channel: row.channel, attempts, giveUp, err: error }, 'delivery failed');
      const at = this.now();
      const retryAt = new Date(at.getTime() + Math.min(MAX_BACKOFF_MS, this.o.backoffMs * 2 ** (attempts - 1))).toISOString();
      await this.o.db.transaction().execute(async (tx) => {
        const held = await this.store.markFailed(tx, row.id, this.owner, { attempts, giveUp, error, retryAt });
        // Our lease expired and another worker took the delivery over: the outcome is theirs to record.
        if (!giveUp || !held) return;
        const fallback = this.o.book.channelsFor(approval?.policy ?? null).fallback;
        const handedTo = await handOver(tx, this.o.book, row, notification.recipient, fallback, at.toISOString());
        await this.o.trail.append(tx, {
          actor: 'system',
          action: 'delivery.failed',
          channel: row.channel,
          approval_id: notification.approval_id,
          details: { delivery: row.id, notification: notification.id, recipient: notification.recipient, attempts, error, fallback: handedTo === null ? null : { channel: fallback, delivery: handedTo } },
          at: at.toISOString(),
        });
      });
    }
  }
}
