// Builds every published artefact: ESM/CJS/IIFE for the web, type declarations, and (when the
// mini-program entry exists) miniprogram_dist. `npm run build`; also run by `prepack`.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
rmSync('dist', { recursive: true, force: true });
rmSync('miniprogram_dist', { recursive: true, force: true });

/**
 * For the "browser" build: engine.io-client keeps its browser transports, only its global lookup is
 * replaced (uni-app and Taro bundle this build into mini-programs too).
 */
const browserGlobalsShim = {
  name: 'browser-globals-shim',
  setup(b) {
    b.onResolve({ filter: /\/globals(\.node)?\.js$/ }, (args) =>
      args.importer.includes(`${path.sep}engine.io-client${path.sep}`) ? { path: path.join(root, 'scripts/miniprogram-shims/engine-globals-browser.js') } : undefined,
    );
  },
};

const common = { bundle: true, sourcemap: true, target: ['es2018'], logLevel: 'warning', legalComments: 'none' };

await Promise.all([
  // Node and bundlers without the "browser" condition: dependencies stay external so apps dedupe them.
  build({ ...common, entryPoints: ['entries/web.ts'], outfile: 'dist/index.mjs', format: 'esm', platform: 'neutral', external: ['socket.io-client', 'engine.io-client', 'engine.io-parser', 'nanoid'], mainFields: ['module', 'main'] }),
  build({ ...common, entryPoints: ['entries/web.ts'], outfile: 'dist/index.cjs', format: 'cjs', platform: 'node', external: ['socket.io-client', 'engine.io-client', 'engine.io-parser', 'nanoid'] }),
  // The "browser" condition (web bundlers, uni-app and Taro for H5 and mini-programs): every adapter,
  // socket.io-client bundled with a mini-program-safe global lookup.
  build({ ...common, entryPoints: ['entries/browser.ts'], outfile: 'dist/index.browser.mjs', format: 'esm', platform: 'browser', external: ['nanoid'], plugins: [browserGlobalsShim] }),
  // comind-im-client-sdk/testing: the Node wx runtime; ws stays a (peer) dependency.
  build({ ...common, entryPoints: ['testing/index.ts'], outfile: 'dist/testing.cjs', format: 'cjs', platform: 'node', external: ['ws'] }),
  // <script>: everything inside, minified, global ImClient.
  build({
    ...common,
    entryPoints: ['entries/script.ts'],
    outfile: 'dist/comind-im-client-sdk.js',
    format: 'iife',
    platform: 'browser',
    globalName: 'ImClient',
    minify: true,
    footer: { js: 'ImClient=ImClient.default;' },
  }),
  // WeChat "build npm" copies this folder. Self-contained CommonJS, no eval, no Node builtins; the
  // socket is the SDK's lite Socket.IO client, so no socket.io-client or engine.io-client inside.
  build({
    ...common,
    sourcemap: false,
    entryPoints: ['entries/miniprogram.ts'],
    outfile: 'miniprogram_dist/index.js',
    format: 'cjs',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['import', 'default'],
    metafile: true,
    target: ['es2017'],
    minify: true,
  }),
]);

if (existsSync('demo-miniprogram')) {
  const target = 'demo-miniprogram/miniprogram_npm/comind-im-client-sdk';
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  cpSync('miniprogram_dist', target, { recursive: true });
}

execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.types.json'], { stdio: 'inherit' });
console.log('built dist/');
