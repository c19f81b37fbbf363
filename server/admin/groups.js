// Groups: the searchable list, one group with its members, dismiss.
import { api, seg, withQuery } from './api.js';
import { badge, confirmAction, fields, fmtTime, h, link, route, text } from './dom.js';
import { t } from './i18n.js';
import { failure, pagedTable, searchForm, section, title } from './view.js';

const PAGE = 50;

const groupName = (g) => text(g.groupName ?? g.name);

export async function groupsView(view, { query }) {
  const q = query.get('q') ?? '';
  const list = h('div', { class: 'list' });
  view.show(title(t('groups.title')), searchForm('#/groups', q, t('groups.search')), list);
  await pagedTable(
    view,
    list,
    (cursor) => api('GET', withQuery('/api/server/groups', { query: q, limit: PAGE, cursor })),
    [
      { label: t('groups.groupId'), cell: (g) => link(route('groups', g.groupId), g.groupId) },
      { label: t('groups.name'), cell: groupName },
      { label: t('groups.owner'), cell: (g) => (g.ownerId ? link(route('users', g.ownerId), g.ownerId) : '—') },
      { label: t('groups.members'), cell: (g) => String(g.memberCount ?? 0), class: 'num' },
      { label: t('groups.createdAt'), cell: (g) => fmtTime(g.createdAt) },
    ],
    q ? t('groups.noMatch', { q }) : t('groups.none'),
  );
}

const ROLE_KIND = { owner: 'info', admin: 'good', member: 'muted' };

export async function groupView(view, { params: [groupId] }) {
  const body = h('div');
  view.show(h('p', { class: 'crumbs' }, link('#/groups', t('groups.title')), ' / ', groupId), body);
  let group;
  try {
    group = await api('GET', `/api/server/groups/${seg(groupId)}`);
  } catch (err) {
    if (!view.gone()) body.replaceChildren(failure(err));
    return;
  }
  if (view.gone()) return;

  const status = h('p', { class: 'status', role: 'status' });
  const dismiss = h('button', { type: 'button', class: 'danger', 'data-role': 'dismiss' }, t('groups.dismiss'));
  const members = h('div', { class: 'list' });
  body.replaceChildren(
    title(groupName(group), group.groupId),
    fields([
      [t('groups.groupId'), group.groupId],
      [t('groups.name'), groupName(group)],
      [t('groups.owner'), group.ownerId ? link(route('users', group.ownerId), group.ownerId) : '—'],
      [t('groups.members'), String(group.memberCount ?? 0)],
      [t('groups.createdAt'), fmtTime(group.createdAt)],
    ]),
    h('div', { class: 'actions' }, dismiss, link(route('messages', 'group', group.groupId), t('groups.messages'))),
    status,
    section(t('groups.memberList'), members),
  );

  dismiss.addEventListener('click', async () => {
    if (!(await confirmAction(t('groups.confirmDismiss', { name: groupName(group), id: groupId }), t('groups.dismiss')))) return;
    try {
      await api('POST', `/api/server/groups/${seg(groupId)}/dismiss`);
      if (view.gone()) return;
      dismiss.disabled = true;
      status.replaceChildren(badge(t('groups.dismissed'), 'bad'));
    } catch (err) {
      if (!view.gone()) status.replaceChildren(failure(err));
    }
  });

  await pagedTable(
    view,
    members,
    (cursor) => api('GET', withQuery(`/api/server/groups/${seg(groupId)}/members`, { limit: PAGE, cursor })),
    [
      { label: t('users.userId'), cell: (m) => link(route('users', m.userId), m.userId) },
      { label: t('groups.role'), cell: (m) => badge(t(`groups.role.${m.role}`, {}, m.role), ROLE_KIND[m.role] ?? 'muted') },
      { label: t('groups.joinedAt'), cell: (m) => fmtTime(m.joinedAt) },
    ],
    t('groups.noMembers'),
  );
}
