/**
 * Entry for miniprogram_dist (WeChat "build npm"): the core with the weapp adapter registered.
 * Self-contained CommonJS with the lite Socket.IO client (adapters/shared/lite-socket.ts).
 */
import { ImClient, registerAdapter } from '../src/index';
import { createWeappAdapter, weappAdapterCandidate } from '../adapters/weapp';

registerAdapter(weappAdapterCandidate);

export * from '../src/index';
export { createWeappAdapter };
export type { WeappAdapterOptions, WxApi, IoFactory } from '../adapters/weapp';
export default ImClient;
