import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts', 'scripts/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    // Ceilings against a hung test, not speed budgets (those live in npm run bench): the CI machine
    // has two cores shared with other work, and under load an embedded database alone took 14 s
    // to create.
    testTimeout: 90_000,
    hookTimeout: 120_000,
    // The machines have two cores; more workers only contend for them.
    maxWorkers: 2,
  },
});
