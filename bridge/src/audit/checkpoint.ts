import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { PeriodicWorker } from '../workers/periodic.js';
import { z } from '../zod.js';

/**
 * The audit chain's head as last seen, kept outside the store and signed with the audit key: entries removed from
 * the end, or a chain rewritten by someone holding the key, no longer reach it.
 */
export const Checkpoint = z.object({
  seq: z.number().int().min(0),
  hash: z.string(),
  at: z.iso.datetime(),
  /** The first seq hashed with the key (earlier entries were written before the store had one). */
  keyed_from: z.number().int().min(1),
  mac: z.string(),
});
export type Checkpoint = z.infer<typeof Checkpoint>;

/** Where checkpoints are kept; `read` returns what is there, unparsed (the trail decides whether to trust it). */
export interface CheckpointStore {
  read(): Promise<unknown>;
  write(checkpoint: Checkpoint): Promise<void>;
}

/** A JSON file the operator chooses (AIRGATE_AUDIT_CHECKPOINT_FILE), replaced atomically, never moved backwards. */
export class FileCheckpoints implements CheckpointStore {
  constructor(readonly path: string) {}

  async read(): Promise<unknown> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as unknown;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      // A file that no longer parses is reported by verify, not thrown at it.
      if (err instanceof SyntaxError) return { unreadable: true };
      throw err;
    }
  }

  async write(checkpoint: Checkpoint): Promise<void> {
    // Replicas share the file: an older head never overwrites a newer one.
    const current = Checkpoint.safeParse(await this.read());
    if (current.success && current.data.seq > checkpoint.seq) return;
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(checkpoint)}\n`, { mode: 0o600 });
    await rename(tmp, this.path);
  }
}

/** Checkpoints the head on an interval (at most a minute) and when kicked (after every decision). */
export class CheckpointWorker extends PeriodicWorker {
  constructor(
    private readonly checkpoint: () => Promise<void>,
    log: Logger,
    intervalMs = 60_000,
  ) {
    super(intervalMs, (err) => log.error({ err: String(err) }, 'audit checkpoint failed'));
  }

  protected pass(): Promise<void> {
    return this.checkpoint();
  }
}
