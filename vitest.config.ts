import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'properties/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    coverage: {
      // vitest's own V8 provider: c8 wrapping `vitest run` cannot see the forked workers.
      provider: 'v8',
      include: ['src/**/*.ts'],
      // The demo and the bench are programs run on demand, measured by c8 over dist (npm run coverage:dist).
      // index.ts only re-exports (the two-process test loads it from dist); _aead.ts is types only.
      exclude: ['src/demo.ts', 'src/cli.ts', 'src/bench/**', 'src/index.ts', 'src/crypto/_aead.ts'],
      reportsDirectory: 'coverage',
      clean: false, // keep coverage/README.md (the reports overwrite their own files)
      reporter: ['text', 'lcov', 'html', 'json-summary'],
      thresholds: { lines: 95, branches: 90 },
    },
  },
});
