import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Scenarios in the order of their numbers: vitest's own order (slowest and largest first) changes between runs. */
class ByName extends BaseSequencer {
  override async sort(files: TestSpecification[]) {
    return [...files].sort((a, b) => a.moduleId.localeCompare(b.moduleId));
  }
}

/** The fault suite: one scale-out stack (Celery, PostgreSQL, two bridge replicas behind HAProxy) for every scenario. */
export default defineConfig({
  test: {
    include: ['fault/**/*.test.ts'],
    globalSetup: ['fault/support/summary.ts', 'fault/support/stack-setup.ts'],
    setupFiles: ['fault/support/end-runs.ts'],
    // Scenarios break parts of the one shared stack: they run one after another, in file order.
    fileParallelism: false,
    sequence: { shuffle: false, sequencer: ByName },
    // Limits, not expectations: parking a run's mapped tasks takes 5-13 s each on a loaded 2-core machine.
    testTimeout: 1_200_000,
    hookTimeout: 900_000,
  },
});
