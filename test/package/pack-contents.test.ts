import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';

/**
 * What `npm pack` would publish, for the SDK and for the server workspace: every entry point that
 * package.json names, the docs, and nothing of the repository's tests, sources, maps, benchmarks,
 * demo or examples.
 *
 * `--ignore-scripts` skips `prepack` (a full build of both packages): the test inspects the build
 * already on disk, which `npm test` makes before jest starts, instead of rebuilding dist/ while
 * other test files read it.
 */

const ROOT = path.join(__dirname, '..', '..');
const SERVER = path.join(ROOT, 'server');
const run = promisify(execFile);

interface PackEntry {
  name: string;
  files: { path: string }[];
}

async function packedFiles(extraArgs: string[]): Promise<string[]> {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', ...extraArgs], {
    cwd: ROOT,
    timeout: 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const entries = JSON.parse(stdout) as PackEntry[];
  if (entries.length !== 1) throw new Error(`npm pack ${extraArgs.join(' ')}: expected one package, got ${entries.length}`);
  return entries[0].files.map((f) => f.path).sort();
}

function requireBuilt(dir: string, files: string[], buildCommand: string): void {
  const missing = files.filter((f) => !fs.existsSync(path.join(dir, f)));
  if (missing.length > 0) {
    throw new Error(`not built: ${missing.join(', ')} missing in ${path.relative(ROOT, dir) || '.'}; run \`${buildCommand}\` first`);
  }
}

/** Every file path a package.json value points at (entry points, types, bins), relative, without "./". */
function namedPaths(value: unknown): string[] {
  if (typeof value === 'string') return [value.replace(/^\.\//, '')];
  if (value && typeof value === 'object') return Object.values(value).flatMap(namedPaths);
  return [];
}

/** Every file under `dir` (relative to `base`), skipping the relative folders in `skip`. */
function filesUnder(base: string, dir: string, skip: string[] = []): string[] {
  const abs = path.join(base, dir);
  if (!fs.existsSync(abs)) return [];
  return fs.readdirSync(abs, { withFileTypes: true }).flatMap((entry) => {
    const rel = path.posix.join(dir, entry.name);
    if (skip.includes(rel)) return [];
    return entry.isDirectory() ? filesUnder(base, rel, skip) : [rel];
  });
}

const missingFrom = (packed: string[], wanted: string[]) => wanted.filter((f) => !packed.includes(f));

describe('SDK package (comind-im-client-sdk)', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  let packed: string[];

  beforeAll(async () => {
    requireBuilt(ROOT, ['dist/index.cjs', 'dist/index.mjs', 'dist/types/entries/web.d.ts', 'miniprogram_dist/index.js'], 'node scripts/build.mjs');
    packed = await packedFiles([]);
  }, 90_000);

  it('ships every entry point package.json names', () => {
    const exportsTargets = namedPaths(pkg.exports).filter((p) => p !== 'package.json');
    const named = [...namedPaths([pkg.main, pkg.module, pkg.types, pkg.unpkg]), ...exportsTargets, `${String(pkg.miniprogram)}/index.js`];
    expect(named.length).toBeGreaterThan(8);
    expect(missingFrom(packed, named)).toEqual([]);
  });

  it('ships the builds, the mini-program entry, the type declarations and package.json', () => {
    const wanted = ['package.json', 'LICENSE', 'dist/index.cjs', 'dist/index.mjs', 'miniprogram_dist/index.js', 'miniprogram/index.js', 'miniprogram/index.d.ts'];
    expect(missingFrom(packed, wanted)).toEqual([]);
    expect(packed.filter((f) => f.startsWith('dist/types/') && f.endsWith('.d.ts')).length).toBeGreaterThan(10);
  });

  it('ships the READMEs, the changelog and every page of docs/ except the screenshots', () => {
    const rootDocs = fs.readdirSync(ROOT).filter((f) => /^README(\..+)?\.md$/.test(f) || f === 'CHANGELOG.md');
    expect(rootDocs).toContain('README.md');
    const pages = filesUnder(ROOT, 'docs', ['docs/screenshots']);
    expect(pages).toContain('docs/protocol.md');
    expect(missingFrom(packed, [...rootDocs, ...pages])).toEqual([]);
  });

  it('ships nothing else: no tests, sources, source maps, screenshots, server, demo, examples or benchmarks', () => {
    const allowed = (f: string) =>
      f === 'package.json' ||
      /^(README(\..+)?|CHANGELOG)\.md$/.test(f) ||
      /^LICEN[CS]E/.test(f) ||
      (/^(dist|miniprogram_dist|miniprogram)\//.test(f) && !f.endsWith('.map')) ||
      (f.startsWith('docs/') && !f.startsWith('docs/screenshots/'));
    expect(packed.filter((f) => !allowed(f))).toEqual([]);
    // TypeScript only as declarations: the sources (src/, adapters/, entries/) ship compiled.
    expect(packed.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(packed.filter((f) => /(^|\/)(test|__tests__)\/|\.(test|spec)\.[cm]?[jt]s$/.test(f))).toEqual([]);
  });
});

describe('server package (comind-im-server)', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(SERVER, 'package.json'), 'utf8')) as Record<string, unknown>;
  let packed: string[];

  beforeAll(async () => {
    requireBuilt(SERVER, ['dist/index.js', 'dist/main.js'], 'npm run build -w comind-im-server');
    packed = await packedFiles(['-w', 'comind-im-server']);
  }, 90_000);

  it('ships its entry points, its CLI and package.json', () => {
    const named = ['package.json', 'LICENSE', ...namedPaths([pkg.main, pkg.types, pkg.bin])];
    expect(named).toContain('dist/main.js');
    expect(missingFrom(packed, named)).toEqual([]);
  });

  it('ships every file of the admin console', () => {
    // The console is served from server/admin/ next to dist/ at run time.
    expect(missingFrom(packed, filesUnder(SERVER, 'admin'))).toEqual([]);
  });

  it('ships nothing else: no TypeScript sources, source maps, tests or tsconfig', () => {
    const allowed = (f: string) =>
      f === 'package.json' ||
      /^(README(\..+)?|CHANGELOG)\.md$/.test(f) ||
      /^LICEN[CS]E/.test(f) ||
      (f.startsWith('dist/') && !f.endsWith('.map')) ||
      f.startsWith('admin/');
    expect(packed.filter((f) => !allowed(f))).toEqual([]);
    expect(packed.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });
});
