/**
 * Entry for bundlers that resolve the "browser" export condition: web apps, and uni-app (Vite) and
 * Taro (webpack) for H5 and for mini-program targets alike. Self-contained: socket.io-client is
 * bundled with engine.io-client's global lookup made safe for mini-programs (no
 * `Function("return this")`). Every adapter is registered; detection order: weapp (a `wx` with
 * request/connectSocket), uniapp (`uni`), taro (a global `Taro`), web (`fetch`).
 */
import { ImClient, registerAdapter } from '../src/index';
import { createWeappAdapter, weappAdapterCandidate } from '../adapters/weapp';
import { createUniappAdapter, uniappAdapterCandidate } from '../adapters/uniapp';
import { createTaroAdapter, taroAdapterCandidate } from '../adapters/taro';
import { createWebAdapter, webAdapterCandidate } from '../adapters/web';

registerAdapter(weappAdapterCandidate);
registerAdapter(uniappAdapterCandidate);
registerAdapter(taroAdapterCandidate);
registerAdapter(webAdapterCandidate);

export * from '../src/index';
export { createWebAdapter, createWeappAdapter, createUniappAdapter, createTaroAdapter };
export type { WebAdapterOptions } from '../adapters/web';
export type { WeappAdapterOptions, WxApi, IoFactory } from '../adapters/weapp';
export type { UniappAdapterOptions, UniApi } from '../adapters/uniapp';
export type { TaroAdapterOptions, TaroApi } from '../adapters/taro';
export default ImClient;
