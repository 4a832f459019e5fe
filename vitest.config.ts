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
    // `npm test` turns coverage on (--coverage). It stays off for `vitest run test/one.test.ts`:
    // the thresholds are the whole suite's, and a single file would fail them every time.
    coverage: {
      provider: 'v8',
      // Every source file counts, loaded by a test or not; the CLI the end-to-end tests spawn
      // (dist/, the bundle, worker threads) is not seen, so the figure is the in-process tests'.
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
      // Just under what was measured (README "Coverage"): a drop fails CI. Lines and statements
      // only: every source file counts in their totals from the start, so more tests can only raise
      // them; branches and functions are counted in the files a test loads, and a test that loads
      // one more file can lower their share without anything having got worse.
      thresholds: { statements: 68, lines: 68 },
    },
  },
});
