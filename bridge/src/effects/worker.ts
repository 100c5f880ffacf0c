import { PostgresAdapter } from 'kysely';
import type { Logger } from 'pino';
import type { AirflowClient } from '../airflow/client.js';
import type { AuditTrail } from '../audit/trail.js';
import type { Db } from '../store/db.js';
import { PeriodicWorker } from '../workers/periodic.js';
import { DEFAULT_HITL_SETTLE_MS, type EffectContext, PermanentEffectError, applyEffect } from './apply.js';

const MAX_BACKOFF_MS = 5 * 60_000;
// Longer than an attempt can take (two Airflow calls with a 10 s timeout each).
const CLAIM_LEASE_MS = 60_000;

/**
 * Applies effects written by decisions, oldest first, until each is done. Transient failures (Airflow
 * down, 5xx, timeouts) are retried with exponential backoff for as long as it takes; nothing is dropped.
 * A pass runs when a decision commits (kick: in this process, or LISTEN/NOTIFY from another replica), when the
 * earliest effect falls due, and on the interval as a safety net.
 */
export class EffectWorker extends PeriodicWorker {
  private readonly rowLocks: boolean;

  constructor(
    private readonly db: Db,
    private readonly airflow: AirflowClient,
    private readonly trail: AuditTrail,
    private readonly log: Logger,
    intervalMs = 1000,
    private readonly now: () => Date = () => new Date(),
    private readonly hitlSettleMs = DEFAULT_HITL_SETTLE_MS,
    private readonly signalsDir: string | null = null,
  ) {
    super(intervalMs, (err) => log.error({ err: String(err) }, 'effects pass failed'));
    this.rowLocks = db.getExecutor().adapter instanceof PostgresAdapter;
  }

  /**
   * Claims due effects for this worker: they become `applying` with a lease (next_attempt_at = now + lease).
   * On PostgreSQL, SKIP LOCKED lets replicas claim disjoint rows; SQLite serializes the transaction. A
   * worker that dies mid-apply leaves its claim to expire, and the effect is claimed again.
   */
  private async claimDue() {
    const now = this.now();
    return this.db.transaction().execute(async (tx) => {
      let select = tx
        .selectFrom('effect')
        .selectAll()
        .where('state', 'in', ['pending', 'applying'])
        .where('next_attempt_at', '<=', now.toISOString())
        .orderBy('id')
        .limit(50);
      if (this.rowLocks) select = select.forUpdate().skipLocked();
      const rows = await select.execute();
      if (rows.length > 0) {
        await tx
          .updateTable('effect')
          .set({ state: 'applying', next_attempt_at: new Date(now.getTime() + CLAIM_LEASE_MS).toISOString() })
          .where(
            'id',
            'in',
            rows.map((r) => r.id),
          )
          .execute();
      }
      return rows;
    });
  }

  protected async pass() {
    await this.applyDue();
    const next = await this.db
      .selectFrom('effect')
      .select((eb) => eb.fn.min('next_attempt_at').as('at'))
      .where('state', 'in', ['pending', 'applying'])
      .executeTakeFirst();
    // next_attempt_at is on this worker's clock; the wake-up is in real time.
    if (next?.at) this.wakeAt(new Date(Date.now() + Date.parse(next.at) - this.now().getTime()));
  }

  private async applyDue() {
    const due = await this.claimDue();
    for (const row of due) {
      try {
        const started = performance.now();
        const startedAt = Date.now();
        const ctx: EffectContext = { now: this.now(), parkedAt: row.parked_at, hitlSettleMs: this.hitlSettleMs, signalsDir: this.signalsDir };
        const outcome = await applyEffect(this.airflow, row.kind, JSON.parse(row.payload), ctx);
        const applied = performance.now();
        if (!outcome.done) {
          // Not a failure: Airflow is not ready for it yet.
          await this.db
            .updateTable('effect')
            .set({ state: 'pending', next_attempt_at: outcome.retryAt.toISOString(), parked_at: outcome.parkedAt })
            .where('id', '=', row.id)
            .execute();
          continue;
        }
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
        // How long it waited to be claimed, to find Airflow ready, and to be applied (the benchmark reads these).
        const ready = ctx.readyAt ?? started;
        this.log.info(
          { effect: row.id, kind: row.kind, approval: row.approval_id, picked_up_ms: startedAt - Date.parse(row.created_at), readiness_ms: ready - started, apply_ms: applied - ready },
          'effect applied',
        );
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
      .where('state', 'in', ['pending', 'applying', 'failed'])
      .groupBy('state')
      .execute();
    const count = (state: string) => Number(rows.find((r) => r.state === state)?.n ?? 0);
    return { pending: count('pending') + count('applying'), failed: count('failed') };
  }
}
