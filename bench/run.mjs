#!/usr/bin/env node
// npm run bench [-- --quick] [-- --only=latency,throughput] [-- --no-build] [-- --offline] [-- --report-only]
//
// Benchmarks, not tests: nothing here asserts a timing and nothing runs in `npm test`. Each suite
// runs in its own Node process (node --expose-gc bench/lib/child.mjs <suite>) with a time limit;
// servers run in further child processes on 127.0.0.1 and exit with their parent. Results:
//   bench/results.json            the latest run (read by other tooling)
//   bench/results.<mode>.json     the latest quick / full run
//   docs/benchmarks.md            generated from both, plus bench/findings.md
import { spawnSync, fork } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root } from './lib/common.mjs';
import { markdown, summaryRows, textTable } from './lib/report.mjs';

const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const opt = (name) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const quick = flag('quick');
const mode = quick ? 'quick' : 'full';
const SUITES = ['size', 'coldstart', 'latency', 'throughput', 'fanout', 'group10k', 'receipts', 'connections', 'reconnect', 'memory', 'profile', 'cluster', 'peers'];
const only = opt('only')?.split(',').filter(Boolean);
const selected = only ? SUITES.filter((s) => only.includes(s)) : SUITES;
const LIMIT_S = quick
  ? { size: 240, coldstart: 150, latency: 60, throughput: 60, fanout: 60, group10k: 180, receipts: 180, connections: 90, reconnect: 60, memory: 60, profile: 60, cluster: 240, peers: 900 }
  : { size: 300, coldstart: 300, latency: 300, throughput: 300, fanout: 300, group10k: 300, receipts: 300, connections: 900, reconnect: 300, memory: 300, profile: 300, cluster: 600, peers: 2400 };

const started = Date.now();
const file = (m) => path.join(root, `bench/results.${m}.json`);
const err = (...a) => console.error(...a);

function git(...cmd) {
  const r = spawnSync('git', cmd, { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function build() {
  if (flag('no-build')) return undefined;
  err('bench: npm run build');
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 2, 2] });
  if (r.status === 0) return undefined;
  const needed = ['dist/index.cjs', 'dist/index.mjs', 'dist/testing.cjs', 'miniprogram_dist/index.js', 'server/dist/index.js'];
  if (needed.every((f) => existsSync(path.join(root, f)))) {
    err('bench: the build failed; measuring the artefacts already built');
    return `npm run build exited ${r.status}; earlier artefacts measured`;
  }
  err('bench: the build failed and there are no artefacts to measure');
  process.exit(1);
}

/** Copies the artefacts aside: a rebuild elsewhere during the run must not pull them away. */
function snapshot() {
  const dir = path.join(root, 'bench/.cache/artefacts');
  rmSync(dir, { recursive: true, force: true });
  for (const d of ['dist', 'miniprogram_dist', 'server/dist']) {
    mkdirSync(path.dirname(path.join(dir, d)), { recursive: true });
    cpSync(path.join(root, d), path.join(dir, d), { recursive: true, filter: (src) => !src.endsWith('.map') && !src.includes(`${path.sep}types${path.sep}`) });
  }
  // The server's own dependencies that npm nested in server/node_modules (a version that differs
  // from the root's) must resolve from the copy too.
  if (existsSync(path.join(root, 'server/node_modules'))) symlinkSync(path.join(root, 'server/node_modules'), path.join(dir, 'server/node_modules'), 'dir');
  process.env.BENCH_ARTEFACTS = dir;
}

function runSuite(name) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    err(`bench: ${name} …`);
    const child = fork(path.join(root, 'bench/lib/child.mjs'), [name, JSON.stringify({ quick, offline: flag('offline') })], {
      execArgv: ['--expose-gc', '--max-old-space-size=6144'],
      stdio: ['ignore', 2, 2, 'ipc'],
    });
    let message;
    child.on('message', (m) => (message = m));
    const timer = setTimeout(() => {
      message = { error: `time limit of ${LIMIT_S[name]} s reached; stopped` };
      child.kill('SIGKILL');
    }, LIMIT_S[name] * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const seconds = Math.round((Date.now() - t0) / 100) / 10;
      if (!message) message = { error: `exited with ${signal ?? code} before reporting` };
      if (message.error) err(`bench: ${name} failed after ${seconds} s: ${message.error.split('\n')[0]}`);
      else err(`bench: ${name} done in ${seconds} s`);
      resolve(message.error ? { error: message.error, seconds } : { ...message.result, seconds });
    });
  });
}

function machine() {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model?.trim(),
    memoryGB: Math.round((os.totalmem() / 1073741824) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    openFileLimit: spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim(),
  };
}

const load = (m) => (existsSync(file(m)) ? JSON.parse(readFileSync(file(m), 'utf8')) : undefined);
const findingsFile = path.join(root, 'bench/findings.md');
const writeDocs = () =>
  writeFileSync(path.join(root, 'docs/benchmarks.md'), markdown({ full: load('full'), quick: load('quick'), before: load('before'), findings: existsSync(findingsFile) ? readFileSync(findingsFile, 'utf8') : '' }));
if (flag('report-only')) {
  // Regenerates docs/benchmarks.md from the stored results (e.g. after editing bench/findings.md).
  writeDocs();
  console.log('written: docs/benchmarks.md');
  process.exit(0);
}

const loadBefore = os.loadavg().map((x) => Math.round(x * 100) / 100);
const buildError = build();
snapshot();
const sections = {};
for (const name of selected) sections[name] = await runSuite(name);

const previous = only && existsSync(file(mode)) ? JSON.parse(readFileSync(file(mode), 'utf8')) : {};
const results = {
  ...previous,
  mode,
  date: new Date().toISOString(),
  durationSeconds: Math.round((Date.now() - started) / 1000),
  machine: machine(),
  // Anything else running on the machine shows here (1, 5 and 15 minute averages).
  loadAverage: { atStart: loadBefore, atEnd: os.loadavg().map((x) => Math.round(x * 100) / 100) },
  commit: git('rev-parse', '--short', 'HEAD'),
  workingTreeDirty: !!git('status', '--porcelain', '--', 'src', 'adapters', 'server/src', 'scripts'),
  ...(buildError ? { buildError } : {}),
  ...(only ? { lastPartialRun: selected } : {}),
};
for (const [k, v] of Object.entries(sections)) results[k] = { ...v, measuredAt: results.date };

writeFileSync(file(mode), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(path.join(root, 'bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
writeDocs();

console.log(`\ncomind-im-client-sdk benchmarks (${mode}, ${results.machine.cores} cores, ${results.machine.memoryGB} GB, Node ${results.machine.node}, ${results.durationSeconds} s)\n`);
console.log(textTable(summaryRows(results)));
console.log('\nwritten: bench/results.json, bench/results.' + mode + '.json, docs/benchmarks.md');
const failed = Object.entries(sections).filter(([, v]) => v.error);
if (failed.length) {
  err(`bench: ${failed.length} suite(s) failed: ${failed.map(([k]) => k).join(', ')}`);
  process.exit(1);
}
