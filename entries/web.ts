/**
 * Package entry for Node (import/require) and bundlers without the "browser" condition: the core
 * with the web adapter registered. The uni-app, Taro and mini-program adapter factories are exported too,
 * for injection (`new ImClient({ adapter: createUniappAdapter({ uni }) })`) and Node tests.
 */
import { ImClient, registerAdapter } from '../src/index';
import { createWebAdapter, webAdapterCandidate } from '../adapters/web';
import { createWeappAdapter } from '../adapters/weapp';
import { createMiniProgramAdapter } from '../adapters/platforms';
import { createUniappAdapter } from '../adapters/uniapp';
import { createTaroAdapter } from '../adapters/taro';

registerAdapter(webAdapterCandidate);

export * from '../src/index';
export { createWebAdapter, createWeappAdapter, createMiniProgramAdapter, createUniappAdapter, createTaroAdapter };
export type { WebAdapterOptions } from '../adapters/web';
export type { WeappAdapterOptions, WxApi, IoFactory } from '../adapters/weapp';
export type { MiniProgramAdapterOptions, MiniProgramPlatform } from '../adapters/platforms';
export type { UniappAdapterOptions, UniApi } from '../adapters/uniapp';
export type { TaroAdapterOptions, TaroApi } from '../adapters/taro';
export default ImClient;
