// The admin console: the page frame, the views by hash (#/users, #/groups/<id>, …) and sign-in state.
// The hash names the view and never holds a credential; it is not sent to the server either.
import { forgetSession, onUnauthorized, session, signOutSession } from './api.js';
import { errorBox, h } from './dom.js';
import { groupView, groupsView } from './groups.js';
import { applyLang, lang, setLang, t } from './i18n.js';
import { liveView } from './live.js';
import { groupMessagesView, privateMessagesView } from './messages.js';
import { signInView } from './signin.js';
import { conversationsView, userView, usersView } from './users.js';
import { describe, failure } from './view.js';

/** [path pattern, view, the nav entry it belongs to]. */
const ROUTES = [
  [/^users$/, usersView, 'users'],
  [/^users\/([^/]+)$/, userView, 'users'],
  [/^users\/([^/]+)\/conversations$/, conversationsView, 'users'],
  [/^groups$/, groupsView, 'groups'],
  [/^groups\/([^/]+)$/, groupView, 'groups'],
  [/^messages\/group\/([^/]+)$/, groupMessagesView, 'groups'],
  [/^messages\/private\/([^/]+)\/([^/]+)$/, privateMessagesView, 'users'],
  [/^live$/, liveView, 'live'],
];

const root = document.getElementById('app');
let current = null;
let signedOutReason = null;
let expiryTimer;

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  return { path: path || 'users', query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}

/** Ends the current view: its timers stop and its late answers are dropped (`gone()`). */
function leaveView() {
  if (!current) return;
  current.left = true;
  for (const f of current.leave) f();
  current = null;
}

function signOut(reason) {
  forgetSession();
  clearTimeout(expiryTimer);
  signedOutReason = reason;
  render();
}

/** The sign-out button: also revokes the token on the server (an expired or refused one needs no revoke). */
function signOutByOperator() {
  void signOutSession();
  signOut(null);
}

function languageSwitch() {
  return h('button', { type: 'button', class: 'lang', 'data-role': 'lang', lang: lang() === 'zh' ? 'en' : 'zh-CN', onclick: () => (setLang(lang() === 'zh' ? 'en' : 'zh'), render()) }, t('shell.lang'));
}

function shell(s, section) {
  const nav = (key, hash) => h('a', { href: hash, 'aria-current': section === key ? 'page' : null }, t(`nav.${key}`));
  return h(
    'header',
    { class: 'top' },
    h('span', { class: 'brand' }, t('app.name')),
    h('nav', null, nav('users', '#/users'), nav('groups', '#/groups'), nav('live', '#/live')),
    h('span', { class: 'spacer' }),
    h('span', { class: 'who', 'data-role': 'app-id' }, t('shell.app', { id: s.appId })),
    languageSwitch(),
    h('button', { type: 'button', 'data-role': 'sign-out', onclick: signOutByOperator }, t('shell.signOut')),
  );
}

/** Signs out when the token runs out, rather than at the first refused call after. */
function armExpiry(expiresAt) {
  clearTimeout(expiryTimer);
  if (typeof expiresAt !== 'number') return;
  expiryTimer = setTimeout(() => signOut(t('shell.expired')), Math.min(Math.max(expiresAt - Date.now(), 0), 2 ** 31 - 1));
}

function render() {
  leaveView();
  applyLang();
  const s = session();
  if (!s) {
    signInView(root, { reason: signedOutReason, languageSwitch, onSignedIn: afterSignIn });
    return;
  }
  if (typeof s.expiresAt === 'number' && s.expiresAt <= Date.now()) return signOut(t('shell.expired'));
  armExpiry(s.expiresAt);

  const { path, query } = parseHash();
  const match = ROUTES.find(([re]) => re.test(path));
  const main = h('main', { class: 'view' });
  root.replaceChildren(shell(s, match?.[2]), main);
  const view = { left: false, leave: [], show: (...nodes) => main.replaceChildren(...nodes), gone: () => view.left, onLeave: (f) => view.leave.push(f) };
  current = view;
  let params;
  try {
    params = match ? match[0].exec(path).slice(1).map(decodeURIComponent) : null;
  } catch {
    params = null; // a malformed %-escape
  }
  if (!params) {
    main.replaceChildren(errorBox(t('shell.notFound')));
    return;
  }
  match[1](view, { params, query }).catch((err) => {
    if (!view.gone()) main.append(failure(err));
  });
}

function afterSignIn() {
  signedOutReason = null;
  render();
}

onUnauthorized((err) => {
  if (session()) signOut(t('shell.refused', { detail: describe(err) }));
});
window.addEventListener('hashchange', render);
render();
