import type { StoredApproval } from '../approvals/store.js';
import type { NotificationTable } from '../store/db.js';

export type StoredNotification = NotificationTable;

/** One delivery to send: the stored message, the approval it is about (as it is now) and where to send it. */
export interface OutgoingMessage {
  readonly deliveryId: number;
  readonly notification: StoredNotification;
  readonly approval: StoredApproval;
  readonly address: string;
}

/** A channel's sending side. Throwing retries the delivery; a PermanentDeliveryError gives up at once. */
export interface Sender {
  send(message: OutgoingMessage): Promise<void>;
}

/** The channel refused the message itself (bad address, revoked token): retrying cannot help. */
export class PermanentDeliveryError extends Error {}
