/**
 * The shape of the core, checked on its source: no platform global anywhere in src/ (platforms
 * plug in through the adapter contract), ImClient stays a façade, and no module grows into a
 * second client.ts. The direction of imports is checked by `npm run lint:deps`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(__dirname, '../..');

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourcesUnder(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

const PLATFORM_GLOBALS = new Set(['wx', 'my', 'tt', 'qq', 'swan', 'ks', 'jd', 'dd', 'uni', 'Taro', 'window', 'document', 'self', 'navigator', 'localStorage', 'WebSocket', 'XMLHttpRequest', 'fetch', 'process', 'Buffer', 'globalThis', 'global', 'require']);

/** Identifiers that read a global of that name (not a property, key or declaration of it). */
function platformGlobalsIn(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2020, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && PLATFORM_GLOBALS.has(node.text)) {
      const p = node.parent;
      const isName =
        (ts.isPropertyAccessExpression(p) && p.name === node) ||
        ((ts.isPropertyAssignment(p) || ts.isPropertySignature(p) || ts.isPropertyDeclaration(p) || ts.isMethodDeclaration(p) || ts.isParameter(p) || ts.isVariableDeclaration(p)) && p.name === node) ||
        ts.isImportSpecifier(p) ||
        ts.isExportSpecifier(p);
      if (!isName) found.push(`${path.relative(root, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1} ${node.text}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const core = sourcesUnder(path.join(root, 'src'));
/** Shared with the server and bundled into mini-programs with the core. */
const sharedProtocol = sourcesUnder(path.join(root, 'server/src/protocol'));

test('the core and the protocol module it shares with the server read no platform global', () => {
  expect(sharedProtocol.length).toBeGreaterThan(0);
  expect([...core, ...sharedProtocol].flatMap(platformGlobalsIn)).toEqual([]);
});

test('the check finds a platform global where there is one', () => {
  const probe = path.join(root, 'adapters/web/index.ts');
  expect(platformGlobalsIn(probe).some((hit) => / (fetch|window|document|localStorage)$/.test(hit))).toBe(true);
});

test('ImClient is a façade: at most 450 lines and 12 fields', () => {
  const file = path.join(root, 'src/client.ts');
  const text = readFileSync(file, 'utf8');
  expect(text.split('\n').length).toBeLessThanOrEqual(450);
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2020, true);
  let fields = -1;
  source.forEachChild((node) => {
    if (ts.isClassDeclaration(node) && node.name?.text === 'ImClient') {
      fields = node.members.filter((m) => ts.isPropertyDeclaration(m)).length;
      const ctor = node.members.find(ts.isConstructorDeclaration);
      // Parameter properties are fields too.
      fields += ctor?.parameters.filter((p) => ts.getModifiers(p)?.length).length ?? 0;
    }
  });
  expect(fields).toBeGreaterThan(0);
  expect(fields).toBeLessThanOrEqual(12);
});

test('no module of the core is over 400 lines', () => {
  const long = core
    .filter((f) => !f.endsWith(`${path.sep}client.ts`))
    .map((f) => [path.relative(root, f), readFileSync(f, 'utf8').split('\n').length] as const)
    .filter(([, lines]) => lines > 400);
  expect(long).toEqual([]);
});
