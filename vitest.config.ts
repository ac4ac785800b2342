import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Servers bind ephemeral ports on 127.0.0.1; files run in parallel on the 2 cores.
    pool: 'forks',
    // Most tests wait on sockets and timers, not the CPU: three workers on two cores.
    maxWorkers: 3,
  },
});
