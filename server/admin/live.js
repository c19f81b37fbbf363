// Live figures: connections and messages per second, per node of a cluster, every 2 s while shown.
import { api } from './api.js';
import { fmtNumber, fmtTime, h, table, text } from './dom.js';
import { t } from './i18n.js';
import { failure, section, title } from './view.js';

const EVERY_MS = 2000;

function card(label, role) {
  const value = h('div', { class: 'figure', 'data-role': role }, '—');
  return { el: h('div', { class: 'card' }, h('div', { class: 'label' }, label), value), value };
}

export async function liveView(view) {
  const connections = card(t('live.connections'), 'connections');
  const rate = card(t('live.rate'), 'rate');
  const nodeCount = card(t('live.nodeCount'), 'nodes');
  const nodes = h('div', { class: 'list' });
  const updated = h('p', { class: 'updated' });
  const status = h('div', { class: 'status', role: 'status' });
  view.show(title(t('live.title')), h('div', { class: 'cards' }, connections.el, rate.el, nodeCount.el), updated, status, section(t('live.nodes'), nodes));

  let timer;
  const tick = async () => {
    try {
      const stats = await api('GET', '/api/server/stats');
      if (view.gone()) return;
      connections.value.textContent = fmtNumber(stats.connections);
      rate.value.textContent = fmtNumber(stats.messagesPerSec, 1);
      const list = Array.isArray(stats.nodes) ? stats.nodes : [];
      nodeCount.value.textContent = fmtNumber(list.length);
      nodes.replaceChildren(
        table(
          [
            { label: t('live.nodeId'), cell: (n) => h('code', null, text(n.nodeId)) },
            { label: t('live.connections'), cell: (n) => fmtNumber(n.connections), class: 'num' },
            { label: t('live.rate'), cell: (n) => fmtNumber(n.messagesPerSec, 1), class: 'num' },
            { label: t('live.startedAt'), cell: (n) => fmtTime(n.startedAt) },
            { label: t('live.lastSeenAt'), cell: (n) => fmtTime(n.lastSeenAt) },
          ],
          list,
        ),
      );
      updated.textContent = t('live.updated', { at: fmtTime(Date.now()) });
      status.replaceChildren();
    } catch (err) {
      if (view.gone()) return;
      status.replaceChildren(failure(err));
    } finally {
      // The next read is planned once this one has answered, so a slow server is never asked twice at once.
      if (!view.gone()) timer = setTimeout(tick, EVERY_MS);
    }
  };
  view.onLeave(() => clearTimeout(timer));
  await tick();
}
