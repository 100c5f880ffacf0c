import type { Kysely, Transaction } from 'kysely';
import type { PolicySource } from '../approvals/service.js';
import type { StoredApproval } from '../approvals/store.js';
import type { AddressBook } from '../deliveries/addresses.js';
import { enqueueNotifications } from '../deliveries/store.js';
import { levelEscalations } from '../escalations/store.js';
import type { Database } from '../store/db.js';
import { currentApprovers } from './recipients.js';
import { type NotificationKind, renderNotification } from './render.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** Turns what happened to an approval into stored messages for the right people, in the caller's transaction. */
export class Notifier {
  constructor(
    private readonly policies: PolicySource,
    private readonly book: AddressBook,
  ) {}

  /** The open level's approvers (with escalated ones); returns who was notified. */
  async notifyApprovers(tx: Executor, approval: StoredApproval, kind: NotificationKind, at: string, note?: string): Promise<string[]> {
    const escalated = await levelEscalations(tx, approval.id, approval.level);
    const recipients = currentApprovers(this.policies.current(), approval, escalated);
    await this.notify(tx, approval, kind, recipients, at, note);
    return recipients;
  }

  async notify(tx: Executor, approval: StoredApproval, kind: NotificationKind, recipients: readonly string[], at: string, note?: string): Promise<void> {
    const { subject, text } = renderNotification(kind, approval, note);
    await enqueueNotifications(
      tx,
      this.book,
      recipients.map((recipient) => ({ approval_id: approval.id, policy: approval.policy, kind, recipient, subject, text })),
      at,
    );
  }
}
