import * as fs from 'fs';
import * as path from 'path';
import { ImClient } from '../../src/client';
import { readApiSurface, type ApiSurface } from './api-surface';
import { anchors, firstColumn, readOutline, type Outline, type Table } from './markdown-outline';

/**
 * The READMEs (English and Chinese) document the API the code has, the Chinese pages keep the
 * structure of their English originals, and no page has a table row GitHub cuts short or a link
 * to a file or heading that is not there. Tables are found by what they list, not by their
 * headings, which differ between the languages.
 */

const ROOT = path.join(__dirname, '..', '..');
const at = (rel: string) => path.join(ROOT, rel);
const READMES = ['README.md', 'README.zh-CN.md'] as const;
const TRANSLATED_PAGES = ['docs/miniprogram.md', 'docs/platforms.md'] as const;
const translationOf = (english: string) => english.replace(/^docs\//, 'docs/zh-CN/');
const markdownIn = (dir: string) => fs.readdirSync(at(dir)).filter((f) => f.endsWith('.md')).map((f) => `${dir}/${f}`);
const ALL_PAGES = [...READMES, ...markdownIn('docs'), ...markdownIn('docs/zh-CN')];

const CALL = /^([A-Za-z_$][\w$]*)\(/;
const ERROR_CODE = /^E_[A-Z0-9_]+$/;

interface DocumentedApi {
  methods: string[];
  events: string[];
  options: string[];
  errorCodes: string[];
  /** The tables of the section that holds the method tables, first column only. */
  apiTables: string[][][];
}

function documentedApi(outline: Outline, file: string): DocumentedApi {
  const flat = (t: Table) => firstColumn(t).flat();
  const isMethodTable = (t: Table) => firstColumn(t).length > 0 && firstColumn(t).every((cell) => cell.some((c) => CALL.test(c)));
  const methodTables = outline.tables.filter(isMethodTable);
  if (methodTables.length === 0) throw new Error(`${file}: no methods table (rows whose first cell is \`name(…)\`)`);
  const apiTables = outline.tables.filter((t) => t.section === methodTables[0].section);
  const single = (what: string, pick: (t: Table) => boolean) => {
    const found = apiTables.filter(pick);
    if (found.length !== 1) throw new Error(`${file}: expected one ${what} table in the API section, found ${found.length}`);
    return flat(found[0]);
  };
  const errorTables = apiTables.filter((t) => flat(t).length > 0 && flat(t).every((c) => ERROR_CODE.test(c)));
  if (errorTables.length === 0) throw new Error(`${file}: no error code table in the API section`);
  return {
    methods: methodTables.flatMap((t) => flat(t).map((c) => CALL.exec(c)?.[1]).filter((n): n is string => n !== undefined)),
    events: single('events', (t) => flat(t).includes('imchat')),
    options: single('options', (t) => flat(t).includes('serverUrl')),
    errorCodes: errorTables.flatMap(flat),
    apiTables: apiTables.map(firstColumn),
  };
}

/** What one list has and the other lacks, both ways; both empty when they hold the same names. */
function compare(inCode: readonly string[], documented: readonly string[]) {
  return {
    inCodeNotDocumented: inCode.filter((n) => !documented.includes(n)),
    documentedNotInCode: documented.filter((n) => !inCode.includes(n)),
    documentedTwice: documented.filter((n, i) => documented.indexOf(n) !== i),
  };
}
const IN_SYNC = { inCodeNotDocumented: [], documentedNotInCode: [], documentedTwice: [] };

let surface: ApiSurface;
const outlines = new Map<string, Outline>();
const outline = (rel: string) => {
  let o = outlines.get(rel);
  if (!o) outlines.set(rel, (o = readOutline(at(rel))));
  return o;
};

beforeAll(() => {
  surface = readApiSurface(ROOT);
}, 60_000);

describe('the API surface read from the code', () => {
  it('is what an ImClient has at runtime: nothing is added to the class outside its type', () => {
    const runtime = Object.getOwnPropertyNames(ImClient.prototype).filter((n) => n !== 'constructor');
    expect(runtime.filter((n) => !surface.methods.includes(n) && !surface.privateMembers.includes(n))).toEqual([]);
    expect(surface.methods).toEqual(expect.arrayContaining(['connect', 'sendPrivateMessage', 'on']));
    expect(surface.methods).not.toContain('assertAlive');
    expect(surface.events).toEqual(expect.arrayContaining(['imchat', 'status']));
    expect(surface.options).toEqual(expect.arrayContaining(['serverUrl', 'tokenProvider']));
    expect(surface.errorCodes).toEqual(expect.arrayContaining(['E_INVALID_ARGUMENT', 'E_SERVER']));
  });
});

/** Relative links whose file does not exist, or whose `#anchor` is no heading of that file. */
function brokenLinks(file: string): string[] {
  return outline(file).links
    .filter((href) => !/^[a-z][a-z0-9+.-]*:/i.test(href))
    .filter((href) => {
      const [target, anchor] = href.split('#');
      const targetFile = target ? path.normalize(path.join(path.dirname(file), decodeURIComponent(target))) : file;
      if (!fs.existsSync(at(targetFile))) return true;
      if (!anchor || !targetFile.endsWith('.md')) return false;
      return !anchors(outline(targetFile)).has(decodeURIComponent(anchor));
    });
}

describe.each(ALL_PAGES)('%s', (file) => {
  it('has as many cells in every table row as in the header (a `|` inside a cell is escaped)', () => {
    const wrong = outline(file).tables.flatMap((t) => t.rows.filter((r) => r.sourceCells !== t.columns).map((r) => `line ${r.line}: ${r.sourceCells} cells, header ${t.columns}`));
    expect(wrong).toEqual([]);
  });

  it('links only to files that exist and to headings they have', () => {
    expect(brokenLinks(file)).toEqual([]);
  });
});

describe.each(READMES)('%s', (file) => {
  it('lists every public ImClient method, and no other, in its methods table', () => {
    expect(compare(surface.methods, documentedApi(outline(file), file).methods)).toEqual(IN_SYNC);
  });

  it('lists every event of ImClientEvents, and no other', () => {
    expect(compare(surface.events, documentedApi(outline(file), file).events)).toEqual(IN_SYNC);
  });

  it('lists every option of ImClientOptions, and no other', () => {
    expect(compare(surface.options, documentedApi(outline(file), file).options)).toEqual(IN_SYNC);
  });

  it('lists every ImErrorCode, and no other', () => {
    expect(compare(surface.errorCodes, documentedApi(outline(file), file).errorCodes)).toEqual(IN_SYNC);
  });
});

describe('README.zh-CN.md against README.md', () => {
  it('has the same API tables, with the same names in the first column in the same order', () => {
    const english = documentedApi(outline('README.md'), 'README.md').apiTables;
    const chinese = documentedApi(outline('README.zh-CN.md'), 'README.zh-CN.md').apiTables;
    expect(chinese).toEqual(english);
  });

  it('the two link to each other at the top', () => {
    expect(outline('README.md').links).toContain('README.zh-CN.md');
    expect(outline('README.zh-CN.md').links).toContain('README.md');
  });
});

describe.each(TRANSLATED_PAGES)('%s and its Chinese version', (english) => {
  const chinese = translationOf(english);

  it('have the same level-2 sections and the same tables (columns and rows)', () => {
    const shape = (o: Outline) => ({
      sections: o.headings.filter((h) => h.level === 2).length,
      tables: o.tables.map((t) => `${t.columns} columns × ${t.rows.length} rows`),
    });
    expect(shape(outline(chinese))).toEqual(shape(outline(english)));
  });

  it('have the same code blocks', () => {
    expect(outline(chinese).code).toEqual(outline(english).code);
  });

  it('link to each other', () => {
    expect(outline(english).links).toContain(`zh-CN/${path.basename(english)}`);
    expect(outline(chinese).links).toContain(`../${path.basename(english)}`);
  });
});
