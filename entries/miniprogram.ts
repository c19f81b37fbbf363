/**
 * Entry for miniprogram_dist: one build for every mini-program platform (WeChat "build npm" and
 * the others' npm support, see docs/platforms.md). The core with one candidate per platform
 * global, in the order of adapters/platforms.ts (a platform that also defines another's global
 * comes first). Self-contained CommonJS with the lite Socket.IO client (adapters/shared/lite-socket.ts).
 */
import { ImClient, registerAdapter } from '../src/index';
import { createWeappAdapter } from '../adapters/weapp';
import { createMiniProgramAdapter, miniProgramCandidates } from '../adapters/platforms';

for (const candidate of miniProgramCandidates) registerAdapter(candidate);

export * from '../src/index';
export { createWeappAdapter, createMiniProgramAdapter };
export type { WeappAdapterOptions, WxApi, IoFactory } from '../adapters/weapp';
export type { MiniProgramAdapterOptions, MiniProgramPlatform } from '../adapters/platforms';
export default ImClient;
