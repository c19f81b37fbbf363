/**
 * Entry for bundlers that resolve the "browser" export condition: web apps, and uni-app (Vite) and
 * Taro (webpack) for H5 and for mini-program targets alike. Self-contained: socket.io-client is
 * bundled with engine.io-client's global lookup made safe for mini-programs (no
 * `Function("return this")`). Every adapter is registered; detection order: the native mini-program
 * platforms (adapters/platforms.ts: dd, my, qq, jd, ks, swan, tt, wx with connectSocket and
 * request), uniapp (`uni`), taro (a global `Taro`), web (`fetch`). So a uni-app or Taro build for
 * Alipay or Douyin runs on the platform's own API, as one for WeChat runs on `wx`.
 */
import { ImClient, registerAdapter } from '../src/index';
import { createWeappAdapter } from '../adapters/weapp';
import { createMiniProgramAdapter, miniProgramCandidates } from '../adapters/platforms';
import { createUniappAdapter, uniappAdapterCandidate } from '../adapters/uniapp';
import { createTaroAdapter, taroAdapterCandidate } from '../adapters/taro';
import { createWebAdapter, webAdapterCandidate } from '../adapters/web';

for (const candidate of miniProgramCandidates) registerAdapter(candidate);
registerAdapter(uniappAdapterCandidate);
registerAdapter(taroAdapterCandidate);
registerAdapter(webAdapterCandidate);

export * from '../src/index';
export { createWebAdapter, createWeappAdapter, createMiniProgramAdapter, createUniappAdapter, createTaroAdapter };
export type { WebAdapterOptions } from '../adapters/web';
export type { WeappAdapterOptions, WxApi, IoFactory } from '../adapters/weapp';
export type { MiniProgramAdapterOptions, MiniProgramPlatform } from '../adapters/platforms';
export type { UniappAdapterOptions, UniApi } from '../adapters/uniapp';
export type { TaroAdapterOptions, TaroApi } from '../adapters/taro';
export default ImClient;
