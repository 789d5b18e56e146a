import { defineConfig } from 'vitest/config';

// One config for the whole repo. `forks` keeps each test file in its own process, so the
// large generated imports/ modules and compiled schema validators never leak between files.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60000,
    pool: 'forks',
  },
});
