import type { Selectable } from 'kysely';
import type { AuditTrail, NewAuditEntry } from '../audit/trail.js';
import type { ActionConfirmationTable, Db } from '../store/db.js';
import type { ActionRequest } from './schemas.js';

/** A prepared action awaiting its person's confirmation. */
export interface StoredConfirmation {
  /** Random, unguessable; what the person sends back to confirm. */
  token: string;
  user: string;
  request: ActionRequest;
  /** What confirming will do, as the person was shown it. */
  effect: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface ActionConfirmationStore {
  /** Saves a prepared confirmation with the audit entry recording it: both commit, or neither. */
  save(confirmation: Omit<StoredConfirmation, 'used_at'>, entry: NewAuditEntry): Promise<void>;
  /**
   * Marks the confirmation used at `at` if it is `user`'s, unused and unexpired, in one statement: of concurrent
   * claims only one gets it. Undefined when not claimed (`find` says why).
   */
  claim(token: string, user: string, at: string): Promise<StoredConfirmation | undefined>;
  /** Undoes a claim (nothing was applied), so the confirmation may be used again until it expires. */
  release(token: string): Promise<void>;
  find(token: string): Promise<StoredConfirmation | undefined>;
  /** An audit entry on its own, e.g. an action applied or failed. */
  audit(entry: NewAuditEntry): Promise<void>;
}

const toConfirmation = (row: Selectable<ActionConfirmationTable>): StoredConfirmation => ({
  ...row,
  request: JSON.parse(row.request) as ActionRequest,
});

export class SqlActionConfirmationStore implements ActionConfirmationStore {
  constructor(
    private readonly db: Db,
    private readonly trail: AuditTrail,
  ) {}

  async save(confirmation: Omit<StoredConfirmation, 'used_at'>, entry: NewAuditEntry) {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('action_confirmation')
        .values({ ...confirmation, request: JSON.stringify(confirmation.request), used_at: null })
        .execute();
      await this.trail.append(tx, entry);
    });
  }

  async claim(token: string, user: string, at: string) {
    const row = await this.db
      .updateTable('action_confirmation')
      .set({ used_at: at })
      .where('token', '=', token)
      .where('user', '=', user)
      .where('used_at', 'is', null)
      .where('expires_at', '>', at)
      .returningAll()
      .executeTakeFirst();
    return row ? toConfirmation(row) : undefined;
  }

  async release(token: string) {
    await this.db.updateTable('action_confirmation').set({ used_at: null }).where('token', '=', token).execute();
  }

  async find(token: string) {
    const row = await this.db.selectFrom('action_confirmation').selectAll().where('token', '=', token).executeTakeFirst();
    return row ? toConfirmation(row) : undefined;
  }

  async audit(entry: NewAuditEntry) {
    await this.trail.append(this.db, entry);
  }
}
