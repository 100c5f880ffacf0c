import type { Insertable } from 'kysely';
import type { Db, LinkUseTable } from '../../store/db.js';

/** One use of a one-click link: its token's jti, spent by `user` on an approval. */
export type LinkUse = Insertable<LinkUseTable>;

/** Which one-click links are spent: each link (by its token's jti) works once. */
export interface LinkUseStore {
  isUsed(jti: string): Promise<boolean>;
  /** Spends the link; false when another request spent it first (of two concurrent claims, exactly one wins). */
  claim(use: LinkUse): Promise<boolean>;
  /** Makes a spent link usable again. */
  release(jti: string): Promise<void>;
}

export class SqlLinkUseStore implements LinkUseStore {
  constructor(private readonly db: Db) {}

  async isUsed(jti: string) {
    const row = await this.db.selectFrom('link_use').select('jti').where('jti', '=', jti).executeTakeFirst();
    return row !== undefined;
  }

  async claim(use: LinkUse) {
    // The primary key decides the race: the loser's insert fails, and the row it finds says why.
    try {
      await this.db.insertInto('link_use').values(use).execute();
      return true;
    } catch (err) {
      if (!(await this.isUsed(use.jti))) throw err;
      return false;
    }
  }

  async release(jti: string) {
    await this.db.deleteFrom('link_use').where('jti', '=', jti).execute();
  }
}
