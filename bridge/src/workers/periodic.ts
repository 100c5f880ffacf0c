/**
 * Runs a worker's pass one at a time. kick() resolves once a pass that started after the call has finished, so
 * work committed before kicking is seen; kicks during a pass share the single pass queued behind it.
 */
export class SerialPasses {
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  kick(): Promise<void> {
    if (this.running) {
      this.queued ??= this.running.then(() => {
        this.queued = null;
        return this.kick();
      });
      return this.queued;
    }
    this.running = this.pass()
      .catch(this.onError)
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  /** Resolves when no pass is running or queued. */
  async idle(): Promise<void> {
    while (this.running || this.queued) await (this.queued ?? this.running);
  }
}

/**
 * A worker that runs its pass when kicked, at a time it asked for (wakeAt), and on an interval as a safety net; one
 * pass at a time; stop() waits for the last.
 */
export abstract class PeriodicWorker {
  private timer: NodeJS.Timeout | null = null;
  private wake: { at: number; timer: NodeJS.Timeout } | null = null;
  private readonly passes: SerialPasses;

  constructor(
    private readonly intervalMs: number,
    onError: (err: unknown) => void,
  ) {
    this.passes = new SerialPasses(() => this.pass(), onError);
  }

  protected abstract pass(): Promise<void>;

  start() {
    this.timer = setInterval(() => void this.kick(), this.intervalMs);
  }

  async stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.clearWake();
    await this.passes.idle();
  }

  /** Runs a pass at `at` (real time) while started, unless one is already due sooner. */
  protected wakeAt(at: Date) {
    if (!this.timer) return;
    const when = at.getTime();
    if (this.wake && this.wake.at <= when) return;
    this.clearWake();
    const timer = setTimeout(() => {
      this.wake = null;
      void this.kick();
    }, Math.max(0, when - Date.now()));
    timer.unref();
    this.wake = { at: when, timer };
  }

  private clearWake() {
    if (this.wake) clearTimeout(this.wake.timer);
    this.wake = null;
  }

  /** Runs a pass now (or right after the current one), e.g. after work was queued. */
  kick(): Promise<void> {
    return this.passes.kick();
  }
}
