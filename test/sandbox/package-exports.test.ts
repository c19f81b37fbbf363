/** The published entry points resolve and load as documented (built by `npm run build`). */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

/** Runs in a plain Node process so Node's own `exports` resolution is what is tested. */
function node(code: string): string {
  return execFileSync(process.execPath, ['-e', code], { cwd: root, encoding: 'utf8' }).trim();
}

describe('package entry points', () => {
  it('require: ImClient named and default, ImError, createWebAdapter', () => {
    expect(node("const m = require('comind-im-client-sdk'); console.log([typeof m.ImClient, m.default === m.ImClient, typeof m.ImError, typeof m.createWebAdapter].join())")).toBe('function,true,function,function');
  });

  it('import: the ESM build', () => {
    expect(node("import('comind-im-client-sdk').then((m) => console.log([typeof m.ImClient, m.default === m.ImClient].join()))")).toBe('function,true');
  });

  it('comind-im-client-sdk/testing: the wx runtime', () => {
    expect(node("const t = require('comind-im-client-sdk/testing'); const r = t.createWxRuntime(); console.log(typeof r.wx.connectSocket); r.destroy()")).toBe('function');
  });

  it('comind-im-client-sdk/miniprogram: the mini-program build, for Node tests of mini-program code', () => {
    expect(node("const m = require('comind-im-client-sdk/miniprogram'); console.log([typeof m.ImClient, typeof m.createWeappAdapter].join())")).toBe('function,function');
  });

  it('comind-im-client-sdk/miniprogram without "exports" support (tools that read node_modules directly, as Alipay\'s): the miniprogram/ folder is the same build', () => {
    // A plain path require never consults "exports": it finds miniprogram/index.js as such a resolver would.
    expect(node("const a = require('./miniprogram'); const b = require('./miniprogram_dist/index.js'); console.log([a === b, typeof a.createMiniProgramAdapter].join())")).toBe('true,function');
  });

  it('the <script> build defines a global ImClient constructor', () => {
    const code = "const vm = require('vm'); const fs = require('fs'); const ctx = vm.createContext({ console, setTimeout, clearTimeout, setInterval, clearInterval }); vm.runInContext(fs.readFileSync('dist/comind-im-client-sdk.js', 'utf8'), ctx); console.log([typeof ctx.ImClient, typeof ctx.ImClient.ImError].join())";
    expect(node(code)).toBe('function,function');
  });
});
