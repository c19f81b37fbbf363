// Size: gzip bytes (zlib level 9, like gzip -9) of what a mini-program loads for the SDK (every
// file in miniprogram_dist), of the web builds, and of the mini-program builds of other IM SDKs,
// fetched at bench time with `npm pack` into bench/.cache (git-ignored; reused when present).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { artefacts, log, require, root } from '../lib/common.mjs';

const run$ = promisify(execFile);
const gz = (buf) => gzipSync(buf, { level: 9 }).length;

function files(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else out.push(p);
  }
  return out.sort();
}

/** Each file counted separately (as a mini-program loads them), summed. */
function measure(paths, base = artefacts) {
  let raw = 0;
  let gzip = 0;
  const list = [];
  for (const p of paths) {
    const buf = readFileSync(p);
    const g = gz(buf);
    raw += buf.length;
    gzip += g;
    list.push({ file: path.relative(base, p), bytes: buf.length, gzip: g });
  }
  return { bytes: raw, gzip, files: list };
}

/**
 * Which file each package's WeChat mini-program users load. None of these has a `miniprogram`
 * field (checked at bench time; if one appears, its folder is measured instead), so the entry is
 * the package's main file where that file is its WeChat build, else the file its docs/readme name.
 */
export const COMPETITORS = [
  { name: 'tim-wx-sdk', entry: 'tim-wx.js', why: '`main`; the package is the WeChat build of Tencent Cloud Chat (v2)' },
  { name: '@tencentcloud/chat', entry: 'index.js', why: '`main`, one build for Web and mini-programs; group features need modules/group-module.js as well', extra: ['modules/group-module.js'] },
  { name: 'easemob-websdk', entry: 'miniProgram/Easemob-chat.js', why: 'the package\'s miniProgram/ build (`main` is the browser build)' },
  { name: 'nim-web-sdk-ng', entry: 'dist/v2/NIM_MINIAPP_SDK.js', why: 'the README\'s "IM mini-program build" (v2, UMD)' },
  { name: 'zego-zim-miniprogram', entry: 'index.js', why: '`main`; a self-contained webpack bundle (its dependencies are inside)' },
  { name: 'leancloud-realtime', entry: 'dist/realtime.weapp.min.js', why: 'the README\'s WeChat build, minified' },
];

/** The package's folder in bench/.cache (npm pack on first use); shared with the coldstart suite. */
export async function fetchPackage(name, cacheDir, offline) {
  const slug = name.replace(/^@/, '').replace(/\//g, '-');
  // <slug>-<version>.tgz, as npm pack names it (a version starts with a digit).
  let tgz = readdirSync(cacheDir).find((f) => f.startsWith(`${slug}-`) && f.endsWith('.tgz') && /^\d/.test(f.slice(slug.length + 1)));
  if (!tgz) {
    if (offline) throw new Error('not in bench/.cache and --offline given');
    const { stdout } = await run$('npm', ['pack', name, '--json', '--pack-destination', cacheDir], { timeout: 180000, maxBuffer: 64 * 1024 * 1024 });
    tgz = JSON.parse(stdout)[0].filename.replace(/^.*\//, '');
  }
  const dir = path.join(cacheDir, tgz.replace(/\.tgz$/, ''));
  if (!existsSync(path.join(dir, 'package', 'package.json'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await run$('tar', ['xzf', path.join(cacheDir, tgz), '-C', dir], { timeout: 60000 });
  }
  return { tgz, dir: path.join(dir, 'package') };
}

export async function run({ offline = false }) {
  const out = {};
  const mp = measure(files(path.join(artefacts, 'miniprogram_dist')));
  out.miniprogramGzip = mp.gzip;
  out.miniprogram = mp;
  out.goalBytes = 32 * 1024;
  const esm = measure([path.join(artefacts, 'dist/index.mjs')]);
  out.webEsm = { ...esm, note: 'own code only: socket.io-client and nanoid are external (deduped by the app bundler); not minified' };
  try {
    const { transformSync } = require('esbuild');
    const min = transformSync(readFileSync(path.join(artefacts, 'dist/index.mjs'), 'utf8'), { minify: true, format: 'esm', target: 'es2018' }).code;
    out.webEsm.minifiedGzip = gz(Buffer.from(min));
    out.webEsm.minifiedBytes = Buffer.byteLength(min);
  } catch (err) {
    out.webEsm.minifiedError = String(err.message ?? err);
  }
  out.iife = { ...measure([path.join(artefacts, 'dist/comind-im-client-sdk.js')]), note: 'everything inside (core, web adapter, socket.io-client, nanoid), minified' };
  const weappIoDir = path.dirname(require.resolve('weapp.socket.io/package.json'));
  const weappIoPkg = JSON.parse(readFileSync(path.join(weappIoDir, 'package.json'), 'utf8'));
  out.weappSocketIo = {
    version: weappIoPkg.version,
    ...measure([path.join(weappIoDir, weappIoPkg.main)], weappIoDir),
    note: 'Socket.IO 3 client for mini-programs alone, no IM logic: the SDK ships its own Socket.IO v4 client over the SocketTask instead (adapters/shared/lite-socket.ts)',
  };

  const cacheDir = path.join(root, 'bench/.cache');
  mkdirSync(cacheDir, { recursive: true });
  out.competitors = [];
  for (const c of COMPETITORS) {
    const row = { name: c.name, entry: c.entry, why: c.why };
    try {
      const { tgz, dir } = await fetchPackage(c.name, cacheDir, offline);
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
      row.version = pkg.version;
      row.tarball = tgz;
      if (pkg.miniprogram) {
        row.entry = `${pkg.miniprogram}/ (miniprogram field)`;
        Object.assign(row, measure(files(path.join(dir, pkg.miniprogram)), dir));
      } else {
        Object.assign(row, measure([path.join(dir, c.entry)], dir));
      }
      if (c.extra) row.withExtras = { files: c.extra, gzip: row.gzip + measure(c.extra.map((f) => path.join(dir, f)), dir).gzip };
      row.ratioToSdk = Math.round((row.gzip / mp.gzip) * 10) / 10;
      delete row.files;
    } catch (err) {
      row.error = String(err?.stderr || err?.message || err).trim().split('\n').slice(-3).join(' ');
    }
    out.competitors.push(row);
  }
  log(`size: miniprogram_dist ${mp.gzip} B gzip (goal ${out.goalBytes}); weapp.socket.io alone ${out.weappSocketIo.gzip} B`);
  return out;
}
