// Cold start of the mini-program SDKs: time to load (read, compile, evaluate) each SDK's
// mini-program build and construct its client, and the heap that adds, each load in a fresh
// process (bench/lib/coldstart-child.mjs) on a simulated phone in a mini-program realm with only
// `wx`, no network. Rounds are interleaved (every SDK once per round) so drift hits all alike;
// medians are reported. For ours also connect() → `ready` against a local reference server (its
// start excluded), first in a fresh process and then a second client in the same process.
// The other SDKs' files come from bench/.cache (npm pack, shared with the size suite).
import { fork } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { artefacts, log, median, ratio, root, startServer, stats, token } from '../lib/common.mjs';
import { SDKS } from '../lib/coldstart-sdks.mjs';
import { COMPETITORS, fetchPackage } from './size.mjs';

const CHILD = path.join(root, 'bench/lib/coldstart-child.mjs');
const gz = (file) => gzipSync(readFileSync(file), { level: 9 }).length;
const r1 = (v) => (v == null ? null : Math.round(v * 1000) / 1000);

function runChild(spec, ms = 30000) {
  return new Promise((resolve) => {
    const child = fork(CHILD, [JSON.stringify(spec)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
    let message;
    child.on('message', (m) => (message = m));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(message ?? { error: `exited with ${signal ?? code} before reporting: ${stderr.trim().split('\n').slice(-2).join(' ')}` });
    });
  });
}

async function locate(sdk, cacheDir, offline) {
  if (sdk.id === 'ours') {
    const dir = path.join(artefacts, 'miniprogram_dist');
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    const all = readdirSync(dir).filter((f) => f.endsWith('.js') && statSync(path.join(dir, f)).isFile());
    return { version: pkg.version, entry: 'miniprogram_dist/index.js', file: path.join(dir, 'index.js'), gzip: all.reduce((s, f) => s + gz(path.join(dir, f)), 0) };
  }
  const c = COMPETITORS.find((x) => x.name === sdk.package);
  const { dir } = await fetchPackage(sdk.package, cacheDir, offline);
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const file = path.join(dir, c.entry);
  return { version: pkg.version, entry: c.entry, file, gzip: gz(file) };
}

export async function run({ quick = false, offline = false }) {
  const rounds = quick ? 5 : 15;
  const cacheDir = path.join(root, 'bench/.cache');
  mkdirSync(cacheDir, { recursive: true });
  const sdks = {};
  for (const sdk of SDKS) {
    const row = { label: sdk.label, package: sdk.package ?? 'comind-im-client-sdk', options: sdk.options };
    try {
      Object.assign(row, await locate(sdk, cacheDir, offline));
    } catch (err) {
      row.error = `not measured: ${String(err?.stderr || err?.message || err).trim().split('\n').slice(-2).join(' ')}`;
    }
    row.runs = [];
    sdks[sdk.id] = row;
  }

  for (let r = 0; r < rounds; r++) {
    for (const [id, row] of Object.entries(sdks)) {
      if (row.error && !row.runs.length) continue;
      const res = await runChild({ id, file: row.file });
      if (res.error) row.failures = [...(row.failures ?? []), res.error].slice(0, 3);
      else row.runs.push(res.result);
    }
  }

  for (const row of Object.values(sdks)) {
    const runs = row.runs;
    delete row.runs;
    delete row.file;
    if (!runs.length) {
      row.error ??= `every load failed: ${row.failures?.[0] ?? 'unknown'}`;
      continue;
    }
    const med = (k) => r1(median(runs.map((x) => x[k])));
    Object.assign(row, {
      n: runs.length,
      totalMs: med('totalMs'),
      loadMs: med('loadMs'),
      constructMs: med('constructMs'),
      totalMsStats: stats(runs.map((x) => x.totalMs)),
      heapBytes: Math.round(median(runs.map((x) => x.heapBytes))),
      heapBytesRange: [Math.min(...runs.map((x) => x.heapBytes)), Math.max(...runs.map((x) => x.heapBytes))],
      heapLoadBytes: Math.round(median(runs.map((x) => x.heapLoadBytes))),
      heapConstructBytes: Math.round(median(runs.map((x) => x.heapConstructBytes))),
      externalBytes: Math.round(median(runs.map((x) => x.externalBytes))),
      // Attempts during load, construction and the settle time after it (all refused locally).
      networkCalls: Math.max(...runs.map((x) => x.networkCalls)),
      network: runs[0].network,
      problems: [...new Set(runs.flatMap((x) => x.problems))].slice(0, 6),
    });
  }

  const ours = sdks.ours;
  let connect;
  if (ours && !ours.error) {
    const server = await startServer();
    try {
      // One more than measured: the first warms the server's own code paths (its start, excluded).
      const users = Array.from({ length: rounds + 1 }, (_, i) => [`coldstart-${i}`, `coldstart-${i}-second`]);
      await server.createUsers(users.flat());
      const first = [];
      const connected = [];
      const second = [];
      const failures = [];
      for (let i = 0; i <= rounds; i++) {
        const res = await runChild({ id: 'ours', file: path.join(artefacts, 'miniprogram_dist/index.js'), connect: { serverUrl: server.socketUrl, apiServer: server.apiUrl, token: token(users[i][0]), secondToken: token(users[i][1]) }, settleMs: 0 });
        if (res.error) failures.push(res.error);
        else if (i > 0) {
          first.push(res.result.connectMs);
          if (res.result.connectedMs != null) connected.push(res.result.connectedMs);
          second.push(res.result.secondConnectMs);
        }
      }
      connect = { n: first.length, msToReady: stats(first), msToConnected: stats(connected), msToReadySecondClient: stats(second), ...(failures.length ? { failures: failures.slice(0, 3) } : {}) };
    } finally {
      await server.stop();
    }
  }

  const others = Object.entries(sdks).filter(([id, v]) => id !== 'ours' && !v.error);
  if (ours && !ours.error) {
    for (const [, v] of others) {
      v.oursTotalRatio = ratio(ours.totalMs, v.totalMs);
      v.oursHeapRatio = ratio(ours.heapBytes, v.heapBytes);
      v.oursGzipRatio = ratio(ours.gzip, v.gzip);
    }
  }
  const best = (k) => (others.length ? others.reduce((a, b) => (a[1][k] <= b[1][k] ? a : b)) : undefined);
  const fastest = best('totalMs');
  const leanest = best('heapBytes');
  log(`coldstart: ours ${ours?.totalMs} ms, ${ours?.heapBytes} B heap; fastest other ${fastest?.[0]} ${fastest?.[1].totalMs} ms; connect → ready ${connect?.msToReady.p50} ms`);
  return {
    rounds,
    settleMs: 500,
    sdks,
    ...(connect ? { connect } : {}),
    ...(fastest ? { fastestOther: fastest[0], leanestOther: leanest[0], totalRatioToFastest: ratio(ours.totalMs, fastest[1].totalMs), heapRatioToLeanest: ratio(ours.heapBytes, leanest[1].heapBytes) } : {}),
  };
}
