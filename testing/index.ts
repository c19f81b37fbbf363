/**
 * comind-im-client-sdk/testing: a WeChat `wx` runtime for Node, so mini-program chat code runs in
 * jest/CI against a real server. Node-only; never bundled into miniprogram_dist.
 */
export { createWxRuntime } from './wx-runtime';
export { installWx, uninstallWx } from './install';
export type { InstallOptions } from './install';
export { MAX_ITEM_BYTES, MAX_TOTAL_BYTES } from './storage';
export type * from './types';
