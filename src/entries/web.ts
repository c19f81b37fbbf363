/** Package entry for browsers, bundlers and Node: the core with the web adapter registered. */
import { registerAdapter } from '../adapter-registry';
import { ImClient } from '../client';
import { createWebAdapter, webAdapterCandidate } from '../../adapters/web';

registerAdapter(webAdapterCandidate);

export * from '../index';
export { createWebAdapter };
export type { WebAdapterOptions } from '../../adapters/web';
export default ImClient;
