import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: the end-to-end files start Apache and PostgreSQL; more at once only adds noise.
    maxWorkers: 2,
    minWorkers: 1,
    // CI also keeps a JSON report, from which .ci/run prints the plain "N passed, N failed" line.
    reporters: process.env.CI === 'true' ? ['default', ['json', { outputFile: 'test-results.json' }]] : ['default'],
  },
});
