/**
 * `<script>` build: defines the global `ImClient` as the class itself (the seed's usage), with the
 * rest of the API hung on it (`ImClient.ImError`, `ImClient.createWebAdapter`, ...). Browser only:
 * the mini-program adapters are left out to keep the file small.
 */
import * as core from '../src/index';
import { createWebAdapter, webAdapterCandidate } from '../adapters/web';

core.registerAdapter(webAdapterCandidate);

const api = { ...core, createWebAdapter };
const ImClient = api.ImClient as typeof api.ImClient & Omit<typeof api, 'default'>;
for (const key of Object.keys(api) as Array<keyof typeof api>) {
  if (key !== 'default' && key !== 'ImClient') (ImClient as unknown as Record<string, unknown>)[key] = api[key];
}
export default ImClient;
