import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { PeriodicWorker } from '../workers/periodic.js';
import type { RetentionStore } from './store.js';

/** Approvals purged in one transaction; a pass takes batches until none is left. */
const BATCH = 500;

export interface RetentionSettings {
  /** How long a decided approval's working state is kept after its decision, in ms. */
  keepMs: number;
  /** How often a pass runs. */
  intervalMs: number;
}

/**
 * Removes the working state of approvals decided longer ago than the retention setting (`APPROVAL_RETENTION`),
 * so the store stays the size of the recent past. Replicas may run it together: a deleted row is gone for the
 * other, which then purges nothing and records nothing.
 */
export class RetentionWorker extends PeriodicWorker {
  constructor(
    private readonly store: RetentionStore,
    private readonly settings: RetentionSettings,
    private readonly purged: Counter,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {
    super(settings.intervalMs, (err) => log.error({ err: String(err) }, 'retention pass failed'));
  }

  protected async pass(): Promise<void> {
    const cutoff = new Date(this.now().getTime() - this.settings.keepMs).toISOString();
    for (;;) {
      const ids = await this.store.purgeDecidedBefore(cutoff, BATCH);
      if (ids.length > 0) {
        this.purged.inc(ids.length);
        this.log.info({ count: ids.length, decided_before: cutoff }, 'retention purged decided approvals');
      }
      if (ids.length < BATCH) return;
    }
  }
}
