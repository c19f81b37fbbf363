// npm run screenshots: renders the demo mini-program's pages with realistic data from a real
// reference-server run and saves PNGs under docs/screenshots/.
//
// 1. jest runs test/simulator/screenshots.scenario.ts: four demo users on simulated phones chat
//    through the reference server; each screen is written as HTML (the page's rendered tree, its
//    WXSS converted to CSS, WeChat's status, navigation and tab bars around it).
// 2. headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) draws each file at
//    375x812 CSS px, device scale 2.
//
// The demo's UI is Chinese by default, so Chromium needs a CJK font: on Debian
// `apt-get install -y fonts-noto-cjk` (Noto Sans CJK SC stands in for WeChat's PingFang SC; Latin
// text is drawn with Liberation Sans). Not part of CI: `npm test` does not take screenshots.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const htmlDir = path.join(root, '.tmp', 'screenshots');
const outDir = path.join(root, 'docs', 'screenshots');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

if (!existsSync(path.join(root, 'miniprogram_dist', 'index.js'))) {
  console.error('miniprogram_dist/ is missing: run `npm run build` first.');
  process.exit(1);
}
if (!existsSync(chromiumPath)) {
  console.error(`No Chromium at ${chromiumPath} (apt-get install -y chromium, or set CHROMIUM_PATH).`);
  process.exit(1);
}
// Without a CJK font every Chinese character would be drawn as an empty box.
const cjkFonts = spawnSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8' });
if (cjkFonts.status === 0 && !cjkFonts.stdout.trim()) {
  console.error('No Chinese font installed (fc-list :lang=zh is empty): apt-get install -y fonts-noto-cjk');
  process.exit(1);
}

const jestConfig = {
  rootDir: root,
  roots: ['<rootDir>/test/simulator'],
  testMatch: ['**/screenshots.scenario.ts'],
  transform: { '^.+\\.tsx?$': ['ts-jest', { diagnostics: false }] },
};
const jest = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), '--config', JSON.stringify(jestConfig), '--runInBand'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, SCREENSHOT_HTML_DIR: htmlDir },
});
if (jest.status !== 0) {
  console.error('The screenshot scenario failed; no pictures were taken.');
  process.exit(jest.status ?? 1);
}

const { chromium } = require('playwright-core');
const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext({ viewport: { width: 375, height: 812 }, deviceScaleFactor: 2 });
  // Local files only: nothing on these pages may reach the network.
  await context.route(/^(?!file:)/, (route) => route.abort());
  mkdirSync(outDir, { recursive: true });
  const files = readdirSync(htmlDir).filter((f) => f.endsWith('.html')).sort();
  for (const file of files) {
    const page = await context.newPage();
    await page.goto(pathToFileURL(path.join(htmlDir, file)).href);
    await page.evaluate(() => document.fonts.ready);
    const png = path.join(outDir, file.replace(/\.html$/, '.png'));
    await page.screenshot({ path: png });
    await page.close();
    console.log(`wrote ${path.relative(root, png)}`);
  }
} finally {
  await browser.close();
}
