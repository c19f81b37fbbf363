// Pieces every view uses: titles, sections, the search box, and errors in the operator's language.
import { ApiFailure } from './api.js';
import { Pager, errorBox, h, table } from './dom.js';
import { t } from './i18n.js';

export function title(main, sub) {
  return h('h1', null, main, sub && sub !== main ? h('small', null, sub) : null);
}

export function section(heading, ...children) {
  return h('section', null, h('h2', null, heading), ...children);
}

/** A search box that puts the query in the view's hash (`#/users?q=…`), so back and reload keep it. */
export function searchForm(hashPath, value, placeholder) {
  const input = h('input', { type: 'search', value, placeholder, 'aria-label': placeholder, maxlength: 64, autocomplete: 'off' });
  const form = h('form', { class: 'search', role: 'search' }, input, h('button', { type: 'submit' }, t('common.search')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = input.value.trim();
    location.hash = q ? `${hashPath}?q=${encodeURIComponent(q)}` : hashPath;
  });
  return form;
}

/** What went wrong, in words: the code's meaning in the console's language, then the server's detail. */
export function describe(err) {
  if (err instanceof ApiFailure) {
    if (err.code === 0) return err.message === 'timeout' ? t('err.timeout') : err.message === 'network' ? t('err.network') : t('err.http', { detail: err.message });
    const known = t(`err.${err.code}`, {}, null);
    return `${known ?? t('err.other')} (${err.code}${err.message ? `: ${err.message}` : ''})`;
  }
  return t('err.other');
}

export function failure(err) {
  return errorBox(describe(err));
}

/**
 * A paged table in `into`: the first page now, then each page the pager's buttons ask for; a
 * failure shows in its place. Nothing is drawn once the operator has left the view.
 */
export async function pagedTable(view, into, load, columns, empty) {
  const pager = new Pager(load);
  const show = async (page) => {
    try {
      const items = await page;
      if (view.gone()) return;
      into.replaceChildren(table(columns, items, { empty }), pager.controls(show));
    } catch (err) {
      if (!view.gone()) into.replaceChildren(failure(err));
    }
  };
  await show(pager.first());
}
