import type { Logger } from 'pino';
import type { AirflowClient } from '../airflow/client.js';
import type { AuditTrail } from '../audit/trail.js';
import type { Db } from '../store/db.js';
import { PermanentEffectError, applyEffect } from './effects.js';

const MAX_BACKOFF_MS = 5 * 60_000;

/**
 * Applies effects written by decisions, oldest first, until each is done. Transient failures (Airflow
 * down, 5xx, timeouts) are retried with exponential backoff for as long as it takes; nothing is dropped.
 */
export class OutboxWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly db: Db,
    private readonly airflow: AirflowClient,
    private readonly trail: AuditTrail,
    private readonly log: Logger,
    private readonly intervalMs = 1000,
    private readonly now: () => Date = () => new Date(),
  ) {}

  start() {
    this.timer = setInterval(() => void this.kick(), this.intervalMs);
  }

  async stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Runs a pass now (or right after the current one), e.g. after a decision was committed. */
  kick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        void this.kick();
      }
    });
    return this.running;
  }

  private async drain() {
    const due = await this.db
      .selectFrom('effect')
      .selectAll()
      .where('state', '=', 'pending')
      .where('next_attempt_at', '<=', this.now().toISOString())
      .orderBy('id')
      .limit(50)
      .execute();
    for (const row of due) {
      try {
        await applyEffect(this.airflow, row.kind, JSON.parse(row.payload));
        await this.db.transaction().execute(async (tx) => {
          await tx
            .updateTable('effect')
            .set({ state: 'done', attempts: row.attempts + 1, done_at: this.now().toISOString(), last_error: null })
            .where('id', '=', row.id)
            .execute();
          await this.trail.append(tx, {
            actor: 'system',
            action: 'effect.applied',
            approval_id: row.approval_id,
            details: { effect: row.id, kind: row.kind, attempts: row.attempts + 1 },
          });
        });
      } catch (err) {
        const attempts = row.attempts + 1;
        const permanent = err instanceof PermanentEffectError;
        const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(attempts, 20));
        this.log.warn({ effect: row.id, kind: row.kind, attempts, permanent, err: String(err) }, 'effect failed');
        await this.db.transaction().execute(async (tx) => {
          await tx
            .updateTable('effect')
            .set({
              state: permanent ? 'failed' : 'pending',
              attempts,
              last_error: String(err),
              next_attempt_at: new Date(this.now().getTime() + delay).toISOString(),
            })
            .where('id', '=', row.id)
            .execute();
          // Every failure is audited once per attempt; a permanent one is the operator's to resolve.
          await this.trail.append(tx, {
            actor: 'system',
            action: permanent ? 'effect.failed' : 'effect.retrying',
            approval_id: row.approval_id,
            details: { effect: row.id, kind: row.kind, attempts, error: String(err) },
          });
        });
      }
    }
  }

  async depth(): Promise<{ pending: number; failed: number }> {
    const rows = await this.db
      .selectFrom('effect')
      .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .where('state', 'in', ['pending', 'failed'])
      .groupBy('state')
      .execute();
    const count = (state: string) => Number(rows.find((r) => r.state === state)?.n ?? 0);
    return { pending: count('pending'), failed: count('failed') };
  }
}
