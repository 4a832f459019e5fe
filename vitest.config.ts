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
  },
});
