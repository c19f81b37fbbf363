import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createWebAdapter } from '../../adapters/web';
import { runContractSuite } from './suite';

const dir = mkdtempSync(path.join(tmpdir(), 'comind-im-web-files-'));

// Node has no online/offline events, so network loss is simulated the way it looks to the core:
// the adapter's network hook fires and the socket drops. The weapp run does this for real.
runContractSuite('web (socket.io-client 4 + fetch, in Node)', {
  createAdapter: () => createWebAdapter(),
  // Node apps hand over bytes, a path or a Blob: one of each.
  async pickFile(_adapter, file) {
    if (file.as === 'media') return file.bytes;
    if (file.as === 'recording') return new Blob([new Uint8Array(file.bytes)], { type: 'audio/mpeg' });
    const p = path.join(dir, file.name);
    writeFileSync(p, file.bytes);
    return p;
  },
  async download(_adapter, url) {
    const res = await fetch(url);
    if (res.status !== 200) throw new Error(`download: HTTP ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  },
  teardown: () => rmSync(dir, { recursive: true, force: true }),
});
