import * as fs from 'fs';
import MarkdownIt from 'markdown-it';

export interface Heading {
  level: number;
  text: string;
}

export interface TableRow {
  /** The code spans of each cell, in order (`` `a` / `b` `` → ['a', 'b']). */
  code: string[][];
  /** The source line (1-based) and how many cells it has when split at unescaped pipes. */
  line: number;
  sourceCells: number;
}

export interface Table {
  /** Index into `headings` of the level-2 heading the table is under (-1 before the first). */
  section: number;
  columns: number;
  rows: TableRow[];
}

/** What of a Markdown file the docs must keep in step across languages: headings, tables, code. */
export interface Outline {
  headings: Heading[];
  tables: Table[];
  /** Fenced code blocks, with their info string (`js`, `bash`…). */
  code: { info: string; text: string }[];
  /** Link targets, as written. */
  links: string[];
}

// GFM tables, as GitHub renders them: markdown-it's default preset has them, and skips what is
// inside code fences, which a line-based reader would have to do by hand.
const md = new MarkdownIt();

/** Cells a table line has, as GFM splits it: at every pipe not escaped with a backslash. */
function countCells(line: string): number {
  const inner = line.trim().replace(/^\|/, '').replace(/(?<!\\)\|$/, '');
  return inner.split(/(?<!\\)\|/).length;
}

export function readOutline(file: string): Outline {
  const source = fs.readFileSync(file, 'utf8');
  const lines = source.split('\n');
  const tokens = md.parse(source, {});
  const outline: Outline = { headings: [], tables: [], code: [], links: [] };
  let section = -1;
  let table: Table | undefined;
  let row: TableRow | undefined;
  let inCell = false;

  const collectLinks = (inline: MarkdownIt.Token) => {
    for (const child of inline.children ?? []) if (child.type === 'link_open') outline.links.push(String(child.attrGet('href') ?? ''));
  };

  tokens.forEach((t, i) => {
    switch (t.type) {
      case 'heading_open': {
        const level = Number(t.tag.slice(1));
        outline.headings.push({ level, text: tokens[i + 1].content });
        if (level === 2) section = outline.headings.length - 1;
        break;
      }
      case 'fence':
        outline.code.push({ info: t.info.trim(), text: t.content });
        break;
      case 'table_open':
        table = { section, columns: 0, rows: [] };
        break;
      case 'tr_open': {
        const line = (t.map?.[0] ?? 0) + 1;
        row = { code: [], line, sourceCells: countCells(lines[line - 1] ?? '') };
        break;
      }
      case 'th_open':
      case 'td_open':
        inCell = true;
        break;
      case 'th_close':
      case 'td_close':
        inCell = false;
        break;
      case 'inline':
        collectLinks(t);
        if (inCell && row) row.code.push((t.children ?? []).filter((c) => c.type === 'code_inline').map((c) => c.content));
        break;
      case 'tr_close':
        if (table && row) {
          if (table.rows.length === 0) table.columns = row.code.length;
          table.rows.push(row);
        }
        row = undefined;
        break;
      case 'table_close':
        if (table) outline.tables.push(table);
        table = undefined;
        break;
      default:
    }
  });
  return outline;
}

/**
 * The anchor GitHub gives a heading: lower case, every character but letters, marks, digits,
 * `_`, `-` and spaces dropped (so `：`, `（`, `.`, backticks go), spaces turned into `-`.
 */
export function headingAnchor(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** The anchors of a page's headings, with GitHub's `-1`, `-2`… for repeated ones. */
export function anchors(outline: Outline): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const h of outline.headings) {
    const base = headingAnchor(h.text.replace(/`/g, ''));
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    result.add(n === 0 ? base : `${base}-${n}`);
  }
  return result;
}

/** The code spans of a table's first column, header row excluded. */
export function firstColumn(table: Table): string[][] {
  return table.rows.slice(1).map((r) => r.code[0] ?? []);
}
