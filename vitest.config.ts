import { defineConfig } from 'vitest/config';

// Three layers, one run: unit (pure), integration (real servers on ephemeral ports, real Redis),
// e2e (built app + headless Chromium). The e2e layer needs `npm run build` first (scripts/test.sh).
export default defineConfig({
  test: {
    projects: [
      // Browser and process tests (group 1) run after the rest (group 0), not competing for 2 cores.
      { test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], testTimeout: 10_000, sequence: { groupOrder: 0 } } },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          globalSetup: ['tests/e2e/build-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 90_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
