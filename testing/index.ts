/**
 * comind-im-client-sdk/testing: mini-program runtimes for Node (WeChat's `wx`, and Alipay, DingTalk,
 * Douyin/Feishu, Baidu, QQ, Kuaishou and JD), so mini-program chat code runs in jest/CI against a
 * real server. Node-only; never bundled into miniprogram_dist.
 */
export { createWxRuntime } from './wx-runtime';
export { createMiniProgramRuntime, MINI_PROGRAM_PLATFORMS } from './mini-program-runtime';
export { installWx, uninstallWx, installPlatform, uninstallPlatform } from './install';
export type { InstallOptions } from './install';
export { MAX_ITEM_BYTES, MAX_TOTAL_BYTES } from './storage';
export type * from './types';
export type * from './platform-types';
