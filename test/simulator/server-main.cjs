/**
 * The reference server in its own Node process, for the simulator tests and the screenshot run
 * (their jest environment is jsdom, where the server's `ws` dependency would resolve to its browser
 * stub). Loads server/src directly, transpiling TypeScript with esbuild on require, so it never runs
 * a stale build. Listens on ephemeral loopback ports with a throwaway data directory and prints one
 * JSON line { apiUrl, socketUrl, appId, appSecret } when ready. Stops (and deletes its data) on
 * SIGTERM/SIGINT or when its parent goes away (stdin closes).
 */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '../..');
const serverSrc = path.join(root, 'server', 'src');

require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { code } = esbuild.transformSync(source, {
    loader: 'ts',
    format: 'cjs',
    target: 'node18',
    sourcemap: 'inline',
    sourcefile: filename,
  });
  module._compile(code, filename);
};

async function main() {
  const { createImServer } = require(path.join(serverSrc, 'index.ts'));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'comind-im-simulator-'));
  const server = createImServer({
    host: '127.0.0.1',
    apiPort: 0,
    socketPort: 0,
    dataDir,
    logger: false,
    devAppId: process.env.IM_DEV_APP_ID || 'demo-app',
    devAppSecret: process.env.IM_DEV_APP_SECRET || 'demo-secret',
    rateLimit: 100000,
    rateBurst: 100000,
    ...(process.env.IM_TOKEN_TTL ? { tokenTtl: Number(process.env.IM_TOKEN_TTL) } : {}),
  });
  const info = await server.start();

  let stopping = false;
  const stop = async (code) => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(code), 5000);
    force.unref();
    try {
      await server.stop();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
      process.exit(code);
    }
  };
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));
  // The parent holds our stdin open; when it exits (even killed), stdin ends and we stop too.
  process.stdin.on('end', () => stop(0));
  process.stdin.on('error', () => stop(0));
  process.stdin.resume();

  process.stdout.write(`${JSON.stringify({ ...info, appId: server.devApp.appId, appSecret: server.devApp.appSecret })}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err && err.stack) || err}\n`);
  process.exit(1);
});
