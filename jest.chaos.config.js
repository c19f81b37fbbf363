/**
 * `npm run test:chaos`: the long reliability runs (*.long.test.ts), kept out of `npm test`.
 * They need the built server (`npm run build -w comind-im-server`, which the script runs first).
 */
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/reliability'],
  testMatch: ['**/*.long.test.ts'],
  testPathIgnorePatterns: [],
  testTimeout: 15 * 60_000,
  maxWorkers: 1,
};
