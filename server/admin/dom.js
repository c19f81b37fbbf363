// DOM helpers. Every server value reaches the page as a text node or an attribute value set through
// the DOM API: nothing here parses markup, so a user name such as "<img onerror=…>" stays text.
import { lang, t } from './i18n.js';

const FORBIDDEN_PROPS = new Set(['innerHTML', 'outerHTML', 'style', 'srcdoc']);

/**
 * Creates an element. `props`: `class`, `on<event>` handlers, `hidden`/`disabled`-like booleans,
 * anything else as an attribute. Children: nodes, strings (text), arrays, or null/false (skipped).
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (FORBIDDEN_PROPS.has(key)) throw new Error(`h(): "${key}" is not allowed`);
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  appendAll(el, children);
  return el;
}

function appendAll(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) appendAll(el, child);
    else if (child instanceof Node) el.append(child);
    else el.append(String(child));
  }
}

/** A link inside the console: the hash names the view, so no request carries it. */
export function link(hash, ...children) {
  return h('a', { href: hash }, ...children);
}

/** `#/users/<id>` with each part encoded, so an id is never read as more path. */
export function route(...parts) {
  return `#/${parts.map((p, i) => (i === 0 ? p : encodeURIComponent(p))).join('/')}`;
}

export function fmtTime(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) return '—';
  return new Date(ms).toLocaleString(lang() === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false });
}

export function fmtNumber(n, digits = 0) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  return n.toLocaleString(lang() === 'zh' ? 'zh-CN' : 'en-GB', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function text(value) {
  return value === null || value === undefined || value === '' ? '—' : String(value);
}

export function badge(label, kind) {
  return h('span', { class: `badge badge-${kind}` }, label);
}

/**
 * A table: `columns` are `{ label, cell(row) → node | string, class? }`. An empty list says so
 * rather than showing a bare header.
 */
export function table(columns, rows, { empty = t('common.empty'), rowClass } = {}) {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h(
    'table',
    { class: 'grid' },
    h('thead', null, h('tr', null, columns.map((c) => h('th', { class: c.class }, c.label)))),
    h(
      'tbody',
      null,
      rows.map((row) => h('tr', { class: rowClass?.(row) }, columns.map((c) => h('td', { class: c.class }, c.cell(row))))),
    ),
  );
}

/** Definition list of `[label, value]` pairs. */
export function fields(pairs) {
  return h('dl', { class: 'fields' }, pairs.map(([label, value]) => [h('dt', null, label), h('dd', null, value)]));
}

/** An error line (role=alert, so assistive tech reads it). */
export function errorBox(message) {
  return h('p', { class: 'error', role: 'alert' }, message);
}

/**
 * Asks before a change that cannot be taken back. A modal <dialog> of our own (window.confirm
 * cannot be styled or translated, and some embedders block it).
 */
export function confirmAction(message, confirmLabel) {
  return new Promise((resolve) => {
    const ok = h('button', { type: 'button', class: 'danger', 'data-role': 'confirm' }, confirmLabel);
    const cancel = h('button', { type: 'button', 'data-role': 'cancel' }, t('common.cancel'));
    const dialog = h('dialog', { class: 'confirm' }, h('p', null, message), h('div', { class: 'actions' }, cancel, ok));
    const finish = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    ok.addEventListener('click', () => finish(true));
    cancel.addEventListener('click', () => finish(false));
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      finish(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/**
 * Previous / next over a cursor-paged list: the cursors seen so far are kept, so "previous"
 * re-reads the page before without the server keeping any state.
 */
export class Pager {
  constructor(load) {
    this.load = load;
    this.stack = [];
    this.cursor = undefined;
    this.next = null;
  }

  async first() {
    this.stack = [];
    this.cursor = undefined;
    return this.reload();
  }

  async reload() {
    const page = await this.load(this.cursor);
    this.next = page.nextCursor ?? null;
    return page.items ?? [];
  }

  async forward() {
    if (!this.next) return this.reload();
    this.stack.push(this.cursor);
    this.cursor = this.next;
    return this.reload();
  }

  async back() {
    if (this.stack.length === 0) return this.reload();
    this.cursor = this.stack.pop();
    return this.reload();
  }

  controls(onPage) {
    const prev = h('button', { type: 'button', 'data-role': 'prev', disabled: this.stack.length === 0 }, t('common.prev'));
    const next = h('button', { type: 'button', 'data-role': 'next', disabled: !this.next }, t('common.next'));
    prev.addEventListener('click', () => onPage(this.back()));
    next.addEventListener('click', () => onPage(this.forward()));
    return h('div', { class: 'pager' }, prev, h('span', { class: 'page-no' }, t('common.page', { n: this.stack.length + 1 })), next);
  }
}
