/**
 * `npm run test:compat`: the example uni-app and Taro projects, built with their own tooling
 * (test/compat/build-examples.mjs), their WeChat, Alipay and Douyin outputs loaded on phones of
 * those platforms (the testing runtimes) and their H5 output in headless Chromium. Not part of
 * `npm test`: the files are *.compat.ts, which the main config does not match.
 */
/** @type {import('jest').Config} */
module.exports = {
  rootDir: '../..',
  testEnvironment: 'node',
  roots: ['<rootDir>/test/compat'],
  testMatch: ['**/*.compat.ts'],
  transform: { '^.+\\.tsx?$': ['ts-jest', { diagnostics: false }] },
  testTimeout: 60000,
  maxWorkers: 1,
};
