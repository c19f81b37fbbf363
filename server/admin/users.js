// Users: the searchable list, one user with its sessions, disable / enable, its conversations.
import { api, seg, withQuery } from './api.js';
import { badge, confirmAction, fields, fmtTime, h, link, route, table, text } from './dom.js';
import { t } from './i18n.js';
import { failure, pagedTable, searchForm, section, title } from './view.js';

const PAGE = 50;

export async function usersView(view, { query }) {
  const q = query.get('q') ?? '';
  const list = h('div', { class: 'list' });
  view.show(title(t('users.title')), searchForm('#/users', q, t('users.search')), list);

  await pagedTable(
    view,
    list,
    (cursor) => api('GET', withQuery('/api/server/users', { query: q, limit: PAGE, cursor })),
    [
      { label: t('users.userId'), cell: (u) => link(route('users', u.userId), u.userId) },
      { label: t('users.userName'), cell: (u) => text(u.userName) },
      { label: t('users.role'), cell: (u) => roleName(u.imRole) },
      { label: t('users.valid'), cell: (u) => validBadge(u.valid) },
      { label: t('users.online'), cell: (u) => onlineBadge(u.online) },
      { label: t('users.sessions'), cell: (u) => String(u.sessions ?? 0), class: 'num' },
    ],
    q ? t('users.noMatch', { q }) : t('users.none'),
  );
}

export function validBadge(valid) {
  return valid === false ? badge(t('users.disabled'), 'bad') : badge(t('users.enabled'), 'good');
}

function roleName(role) {
  return t(`users.role.${role}`, {}, text(role));
}

function onlineBadge(online) {
  return online ? badge(t('users.isOnline'), 'good') : badge(t('users.offline'), 'muted');
}

export async function userView(view, { params: [userId] }) {
  const body = h('div');
  view.show(h('p', { class: 'crumbs' }, link('#/users', t('users.title')), ' / ', userId), body);
  const status = h('p', { class: 'status', role: 'status' });

  const load = async () => {
    let user;
    try {
      user = await api('GET', `/api/server/users/${seg(userId)}`);
    } catch (err) {
      if (!view.gone()) body.replaceChildren(failure(err));
      return;
    }
    if (view.gone()) return;
    const toggle = user.valid === false
      ? h('button', { type: 'button', 'data-role': 'enable', onclick: () => change('enable') }, t('users.enable'))
      : h('button', { type: 'button', class: 'danger', 'data-role': 'disable', onclick: () => change('disable') }, t('users.disable'));
    const sessions = Array.isArray(user.sessionList) ? user.sessionList : [];
    body.replaceChildren(
      title(text(user.userName), user.userId),
      fields([
        [t('users.userId'), user.userId],
        [t('users.userName'), text(user.userName)],
        [t('users.company'), text(user.companyName)],
        [t('users.role'), roleName(user.imRole)],
        [t('users.valid'), validBadge(user.valid)],
        [t('users.online'), onlineBadge(user.online)],
        [t('users.createdAt'), fmtTime(user.createdAt)],
      ]),
      h('div', { class: 'actions' }, toggle, link(route('users', user.userId, 'conversations'), t('users.conversations'))),
      status,
      section(
        t('users.sessionList', { n: sessions.length }),
        table(
          [
            { label: t('users.platform'), cell: (s) => text(s.platform) },
            { label: t('users.node'), cell: (s) => text(s.node) },
            { label: t('users.connectedAt'), cell: (s) => fmtTime(s.connectedAt) },
            { label: t('users.sessionId'), cell: (s) => h('code', null, text(s.id)) },
          ],
          sessions,
          { empty: t('users.noSessions') },
        ),
      ),
    );
  };

  const change = async (action) => {
    const question = action === 'disable' ? t('users.confirmDisable', { id: userId }) : t('users.confirmEnable', { id: userId });
    if (!(await confirmAction(question, action === 'disable' ? t('users.disable') : t('users.enable')))) return;
    try {
      const r = await api('POST', `/api/server/users/${seg(userId)}/${action}`);
      if (view.gone()) return;
      await load();
      status.textContent = action === 'disable' ? t('users.disabledDone', { n: r?.kicked ?? 0 }) : t('users.enabledDone');
    } catch (err) {
      if (!view.gone()) status.replaceChildren(failure(err));
    }
  };
  await load();
}

export async function conversationsView(view, { params: [userId] }) {
  const list = h('div', { class: 'list' });
  view.show(
    h('p', { class: 'crumbs' }, link('#/users', t('users.title')), ' / ', link(route('users', userId), userId), ' / ', t('users.conversations')),
    title(t('conv.title', { id: userId })),
    list,
  );
  await pagedTable(
    view,
    list,
    (cursor) => api('GET', withQuery(`/api/server/users/${seg(userId)}/conversations`, { limit: PAGE, cursor })),
    [
      { label: t('conv.type'), cell: (c) => (c.chatType === 1 ? badge(t('conv.group'), 'info') : badge(t('conv.private'), 'muted')) },
      { label: t('conv.name'), cell: (c) => link(messagesRoute(userId, c), text(c.name ?? c.targetId)) },
      { label: t('conv.target'), cell: (c) => text(c.targetId) },
      { label: t('conv.last'), cell: (c) => preview(c.lastMessage), class: 'wide' },
      { label: t('conv.unread'), cell: (c) => String(c.unreadCount ?? 0), class: 'num' },
      { label: t('conv.updatedAt'), cell: (c) => fmtTime(c.updatedAt) },
    ],
    t('conv.none'),
  );
}

function messagesRoute(userId, c) {
  return c.chatType === 1 ? route('messages', 'group', c.targetId) : route('messages', 'private', userId, c.targetId);
}

function preview(m) {
  if (!m) return '—';
  if (m.revoked) return h('em', null, t('msg.revoked'));
  const content = String(m.content ?? '');
  return content.length > 60 ? `${content.slice(0, 60)}…` : content || '—';
}
