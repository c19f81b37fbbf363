// Builds the real example projects in examples/ with their own tooling, against the SDK as it
// would be published: `npm pack`, `npm install` in each example (its own package.json and lock;
// nothing enters the SDK's package.json), then the packed tarball installed over the example's
// `file:../..` link, then the mini-program builds (WeChat, Alipay, Douyin) and an H5 build.
// Prints a timing table and writes examples/.build-report.json. Needs `npm run build` first (the
// compat script runs it).
//
//   node test/compat/build-examples.mjs [uniapp|taro ...]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const examples = path.join(root, 'examples');
const packDir = path.join(examples, '.pack');

const projects = {
  uniapp: [
    ['mp-weixin', ['npx', 'uni', 'build', '-p', 'mp-weixin'], 'dist/build/mp-weixin'],
    ['mp-alipay', ['npx', 'uni', 'build', '-p', 'mp-alipay'], 'dist/build/mp-alipay'],
    ['mp-toutiao', ['npx', 'uni', 'build', '-p', 'mp-toutiao'], 'dist/build/mp-toutiao'],
    ['h5', ['npx', 'uni', 'build'], 'dist/build/h5'],
  ],
  taro: [
    ['weapp', ['npx', 'taro', 'build', '--type', 'weapp'], 'dist/weapp'],
    ['alipay', ['npx', 'taro', 'build', '--type', 'alipay'], 'dist/alipay'],
    ['tt', ['npx', 'taro', 'build', '--type', 'tt'], 'dist/tt'],
    ['h5', ['npx', 'taro', 'build', '--type', 'h5'], 'dist/h5'],
  ],
};

const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(projects);
const report = { sdkTarball: '', steps: [] };

function run(step, cwd, cmd) {
  const started = Date.now();
  process.stdout.write(`[build-examples] ${step}: ${cmd.join(' ')} (in ${path.relative(root, cwd) || '.'})\n`);
  try {
    execFileSync(cmd[0], cmd.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true', FORCE_COLOR: '0' }, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const out = `${err.stdout ?? ''}\n${err.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
    report.steps.push({ step, ok: false, seconds: (Date.now() - started) / 1000 });
    writeFileSync(path.join(examples, '.build-report.json'), JSON.stringify(report, null, 2));
    throw new Error(`${step} failed (${cmd.join(' ')}):\n${out}`);
  }
  const seconds = (Date.now() - started) / 1000;
  report.steps.push({ step, ok: true, seconds });
  process.stdout.write(`[build-examples] ${step}: ok in ${seconds.toFixed(1)} s\n`);
}

if (!existsSync(path.join(root, 'dist/index.browser.mjs'))) throw new Error('dist/ is missing: run `npm run build` first');
rmSync(packDir, { recursive: true, force: true });
mkdirSync(packDir, { recursive: true });
run('pack the SDK', root, ['npm', 'pack', '--ignore-scripts', '--silent', '--pack-destination', packDir]);
const tarball = path.join(packDir, readdirSync(packDir).find((f) => f.endsWith('.tgz')));
report.sdkTarball = path.relative(root, tarball);

for (const name of wanted) {
  const dir = path.join(examples, name);
  if (!projects[name]) throw new Error(`unknown example "${name}"`);
  run(`${name}: npm install`, dir, ['npm', 'install', '--no-audit', '--no-fund']);
  run(`${name}: install the packed SDK`, dir, ['npm', 'install', '--no-save', '--no-audit', '--no-fund', tarball]);
  for (const [target, cmd, out] of projects[name]) {
    rmSync(path.join(dir, out), { recursive: true, force: true });
    run(`${name}: build ${target}`, dir, cmd);
    if (!existsSync(path.join(dir, out))) throw new Error(`${name} ${target}: no output in ${out}`);
  }
}

writeFileSync(path.join(examples, '.build-report.json'), JSON.stringify(report, null, 2));
console.log('\n[build-examples] step                                 seconds');
for (const s of report.steps) console.log(`[build-examples] ${s.step.padEnd(38)} ${s.seconds.toFixed(1).padStart(7)}`);
