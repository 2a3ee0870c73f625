import { defineConfig } from 'vitest/config';

// Projects: pure unit tests next to the code, Rancher tests against the emulator over real HTTP,
// integration/end-to-end tests against the real control plane (started once by the global setup), and the long
// fault suites (npm run test:faults; not part of npm test).
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['src/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'emulator',
          include: ['test/emulator/**/*.test.ts', 'test/rancher/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: [
            'test/integration/**/*.test.ts',
            'test/install/**/*.test.ts',
            'test/e2e/**/*.test.ts',
            'test/bench/**/*.test.ts',
            'test/image/**/*.test.ts',
          ],
          globalSetup: ['test/control-plane/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          // The long fault and crash suites (npm run test:faults); a reduced set runs in npm test (test/e2e/faults-*).
          name: 'faults',
          include: ['test/faults/**/*.test.ts', 'test/e2e/faults-*.test.ts'],
          globalSetup: ['test/control-plane/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
