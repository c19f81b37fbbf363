// The messages of one conversation (a group, or a private pair), newest last, with revoke as admin.
import { api, seg, withQuery } from './api.js';
import { badge, confirmAction, fmtTime, h, link, route, text } from './dom.js';
import { t } from './i18n.js';
import { failure, title } from './view.js';

const PAGE = 50;
/** Group notices (msgType 1001) are the server's own record of a change: nobody revokes them. */
const NOTICE = 1001;

export function groupMessagesView(view, { params: [groupId] }) {
  return messagesView(view, {
    path: `/api/server/groups/${seg(groupId)}/messages`,
    crumbs: [link('#/groups', t('groups.title')), ' / ', link(route('groups', groupId), groupId), ' / ', t('msg.title')],
    heading: title(t('msg.groupTitle', { id: groupId })),
  });
}

export function privateMessagesView(view, { params: [userA, userB] }) {
  return messagesView(view, {
    path: `/api/server/private/${seg(userA)}/${seg(userB)}/messages`,
    crumbs: [link('#/users', t('users.title')), ' / ', link(route('users', userA), userA), ' / ', link(route('users', userA, 'conversations'), t('users.conversations')), ' / ', userB],
    heading: title(t('msg.privateTitle', { a: userA, b: userB })),
  });
}

/** History replies are an array (oldest first); a paged object is read too. */
function asList(data) {
  if (Array.isArray(data)) return data;
  return Array.isArray(data?.items) ? data.items : Array.isArray(data?.messages) ? data.messages : [];
}

async function messagesView(view, { path, crumbs, heading }) {
  const list = h('ol', { class: 'messages' });
  const older = h('button', { type: 'button', 'data-role': 'older', hidden: true }, t('msg.older'));
  const status = h('div', { class: 'status', role: 'status' });
  view.show(h('p', { class: 'crumbs' }, crumbs), heading, older, status, list);
  let oldestSeq = null;

  const load = async (beforeSeq) => {
    try {
      const items = asList(await api('GET', withQuery(path, { beforeSeq, limit: PAGE })));
      if (view.gone()) return;
      const rows = items.map((m) => messageRow(m, view, status));
      if (beforeSeq === undefined) list.replaceChildren(...rows);
      else list.prepend(...rows);
      if (items.length > 0) oldestSeq = Math.min(oldestSeq ?? Infinity, ...items.map((m) => m.seq));
      older.hidden = items.length < PAGE || oldestSeq === null || oldestSeq <= 1;
      if (beforeSeq === undefined && items.length === 0) status.replaceChildren(h('p', { class: 'empty' }, t('msg.none')));
      if (beforeSeq === undefined) list.lastElementChild?.scrollIntoView({ block: 'end' });
    } catch (err) {
      if (!view.gone()) status.replaceChildren(failure(err));
    }
  };
  older.addEventListener('click', () => load(oldestSeq ?? undefined));
  await load(undefined);
}

function messageRow(m, view, status) {
  const content = h('div', { class: 'content' });
  const state = h('span', { class: 'state' });
  const revoke = h('button', { type: 'button', class: 'danger small', 'data-role': 'revoke' }, t('msg.revoke'));
  const row = h(
    'li',
    { class: 'message', 'data-message-id': m.messageId, 'data-seq': m.seq },
    h(
      'div',
      { class: 'meta' },
      h('span', { class: 'seq' }, `#${m.seq}`),
      link(route('users', m.from), text(m.fromName || m.from)),
      m.fromName && m.fromName !== m.from ? h('span', { class: 'from-id' }, m.from) : null,
      h('time', null, fmtTime(m.timestamp)),
      m.msgType !== 0 ? badge(t(`msg.type.${m.msgType}`, {}, t('msg.type.custom', { n: m.msgType })), 'muted') : null,
      state,
      m.msgType === NOTICE ? null : revoke,
    ),
    content,
  );
  const paint = (msg) => {
    if (msg.revoked) {
      row.classList.add('revoked');
      // A revoke through the server API is made as a system account ("@…"), for the operator.
      const byAdmin = typeof msg.revokedBy !== 'string' || msg.revokedBy.startsWith('@');
      content.replaceChildren(h('em', null, byAdmin ? t('msg.revokedByAdmin', { at: fmtTime(msg.revokedAt) }) : t('msg.revokedBy', { who: msg.revokedBy, at: fmtTime(msg.revokedAt) })));
      state.replaceChildren(badge(t('msg.revoked'), 'bad'));
      revoke.remove();
      return;
    }
    content.replaceChildren(msg.content === '' ? h('em', null, '—') : String(msg.content));
    if (msg.data !== null && msg.data !== undefined) content.append(h('pre', { class: 'data' }, JSON.stringify(msg.data, null, 1).slice(0, 2000)));
    if (msg.editedAt) state.replaceChildren(badge(t('msg.edited'), 'muted'));
  };
  paint(m);

  revoke.addEventListener('click', async () => {
    if (!(await confirmAction(t('msg.confirmRevoke', { seq: m.seq, from: m.fromName || m.from }), t('msg.revoke')))) return;
    revoke.disabled = true;
    try {
      await api('POST', `/api/server/messages/${seg(m.messageId)}/revoke`);
      if (view.gone()) return;
      paint({ ...m, revoked: true, revokedBy: undefined, revokedAt: Date.now() });
    } catch (err) {
      revoke.disabled = false;
      if (!view.gone()) status.replaceChildren(failure(err));
    }
  });
  return row;
}
