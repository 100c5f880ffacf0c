import type { Logger } from 'pino';
import type { AirflowClient } from '../airflow/client.js';
import type { AuditTrail } from '../audit/trail.js';
import type { Db } from '../store/db.js';
import { PeriodicWorker } from '../workers/periodic.js';
import { DEFAULT_HITL_SETTLE_MS, type EffectContext, PermanentEffectError, applyEffect } from './apply.js';
import { type EffectStore, SqlEffectStore } from './store.js';

const MAX_BACKOFF_MS = 5 * 60_000;
// Longer than an attempt can take (two Airflow calls with a 10 s timeout each).
const CLAIM_LEASE_MS = 60_000;
const BATCH = 50;

/**
 * Applies effects written by decisions, oldest first, until each is done. Transient failures (Airflow
 * down, 5xx, timeouts) are retried with exponential backoff for as long as it takes; nothing is dropped.
 * A pass runs when a decision commits (kick: in this process, or LISTEN/NOTIFY from another replica), when the
 * earliest effect falls due, and on the interval as a safety net.
 */
export class EffectWorker extends PeriodicWorker {
  private readonly store: EffectStore;

  constructor(
    db: Db,
    private readonly airflow: AirflowClient,
    trail: AuditTrail,
    private readonly log: Logger,
    intervalMs = 1000,
    private readonly now: () => Date = () => new Date(),
    private readonly hitlSettleMs = DEFAULT_HITL_SETTLE_MS,
    private readonly signalsDir: string | null = null,
  ) {
    super(intervalMs, (err) => log.error({ err: String(err) }, 'effects pass failed'));
    this.store = new SqlEffectStore(db, trail);
  }

  protected async pass() {
    await this.applyDue();
    const next = await this.store.nextDueAt();
    // next_attempt_at is on this worker's clock; the wake-up is in real time.
    if (next) this.wakeAt(new Date(Date.now() + Date.parse(next) - this.now().getTime()));
  }

  private async applyDue() {
    const due = await this.store.claim(this.now(), CLAIM_LEASE_MS, BATCH);
    for (const row of due) {
      try {
        const started = performance.now();
        const startedAt = Date.now();
        const ctx: EffectContext = { now: this.now(), parkedAt: row.parked_at, hitlSettleMs: this.hitlSettleMs, signalsDir: this.signalsDir };
        const outcome = await applyEffect(this.airflow, row.kind, JSON.parse(row.payload), ctx);
        const applied = performance.now();
        if (!outcome.done) {
          // Not a failure: Airflow is not ready for it yet.
          await this.store.defer(row.id, outcome.retryAt.toISOString(), outcome.parkedAt);
          continue;
        }
        await this.store.markApplied(row.id, row.attempts + 1, this.now().toISOString(), {
          actor: 'system',
          action: 'effect.applied',
          approval_id: row.approval_id,
          details: { effect: row.id, kind: row.kind, attempts: row.attempts + 1 },
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
        // Every failure is audited once per attempt; a permanent one is the operator's to resolve.
        await this.store.markFailed(
          row.id,
          { attempts, permanent, error: String(err), retryAt: new Date(this.now().getTime() + delay).toISOString() },
          { actor: 'system', action: permanent ? 'effect.failed' : 'effect.retrying', approval_id: row.approval_id, details: { effect: row.id, kind: row.kind, attempts, error: String(err) } },
        );
      }
    }
  }

  depth(): Promise<{ pending: number; failed: number }> {
    return this.store.depth();
  }
}
