import { defineConfig } from 'vitest/config';

// `npm run bench -w test`: figures from a real Airflow, bridge and Chromium; nothing is asserted on time.
export default defineConfig({
  test: {
    include: ['bench/**/*.bench-run.ts'],
    globalSetup: ['support/stack-setup.ts'],
    testTimeout: 900_000,
    hookTimeout: 300_000,
  },
});
