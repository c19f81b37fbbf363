/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The long reliability runs (test/reliability/*.long.test.ts) are `npm run test:chaos`.
  testPathIgnorePatterns: ['/node_modules/', '\\.long\\.test\\.ts$'],
  transform: {
    // Type checking runs once in `npm run typecheck`; per-file transpiling keeps jest fast.
    '^.+\\.tsx?$': ['ts-jest', { diagnostics: false }],
  },
  testTimeout: 20000,
  maxWorkers: 2,
};
