import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Browser and server tests start real processes on fixed port ranges; keep files from racing for CPU.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
