import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Tests start real processes; on a 2-core machine generous limits keep them reliable.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // expect.poll waits for a condition (never for time); give it room on a loaded machine.
    expect: { poll: { timeout: 20_000, interval: 50 } },
    pool: 'forks',
    maxWorkers: 2,
  },
});
