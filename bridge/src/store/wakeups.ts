import { PostgresAdapter, type Transaction, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from './db.js';

/** The PostgreSQL channel on which a commit that added effects wakes every replica's effects worker. */
export const EFFECTS_CHANNEL = 'airgate_effects';

// A listener that lost its connection tries again after this long; the workers' intervals cover the gap.
const RECONNECT_MS = 1000;

/**
 * Inside `tx`: every listener on `channel` hears of it once the transaction commits, and nobody if it rolls back
 * (PostgreSQL's NOTIFY). SQLite has one process, whose workers are kicked in-process, so there is nothing to do.
 */
export async function notifyOnCommit(tx: Transaction<Database>, channel: string): Promise<void> {
  if (tx.getExecutor().adapter instanceof PostgresAdapter) await sql`select pg_notify(${channel}, '')`.execute(tx);
}

/**
 * LISTENs on PostgreSQL channels over a connection of its own and calls `onNotify` with the channel of each
 * notification; reconnects after a failure. A notification missed meanwhile is caught by the workers' intervals.
 */
export class PgListener {
  private client: pg.Client | null = null;
  private retry: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly channels: readonly string[],
    private readonly onNotify: (channel: string) => void,
    private readonly log: Logger,
  ) {}

  /** Resolves once listening (or once the first attempt failed and a retry is scheduled). */
  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    this.client = client;
    client.on('notification', (n) => this.onNotify(n.channel));
    client.on('error', (err) => this.reconnect(client, err));
    client.on('end', () => this.reconnect(client, new Error('connection ended')));
    try {
      await client.connect();
      for (const channel of this.channels) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (err) {
      this.reconnect(client, err);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private reconnect(client: pg.Client, err: unknown) {
    if (this.closed || this.client !== client) return;
    this.client = null;
    this.log.warn({ err: String(err) }, 'store listener lost its connection; reconnecting');
    client.end().catch(() => undefined);
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.start();
    }, RECONNECT_MS);
  }
}
