import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // PGlite and the servers under test are heavy; two workers fit two cores.
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
  },
});
