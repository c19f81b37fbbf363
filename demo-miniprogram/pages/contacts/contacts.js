const config = require('../../config');
const { avatar, checkUserId, describeError } = require('../../utils/format');
const { pick, section, setPageTitle, t } = require('../../utils/i18n');

function openChat(userId, name) {
  wx.redirectTo({ url: `/pages/chat/chat?type=private&id=${encodeURIComponent(userId)}&name=${encodeURIComponent(name)}` });
}

Page({
  data: {
    contacts: [],
    peerId: '',
    error: '',
    busy: false,
    i18n: section('contacts'),
  },

  onLoad() {
    setPageTitle('title.contacts');
    this.store = getApp().globalData.store;
    const me = this.store.me || {};
    this.setData({
      contacts: config.demoUsers
        .filter((u) => u.userId !== me.userId)
        .map((u) => {
          const a = avatar(u.userId, u.userName);
          return Object.assign({}, u, { title: pick(u.title), avatarText: a.text, avatarColor: a.color });
        }),
    });
  },

  onPick(e) {
    const u = this.data.contacts[e.currentTarget.dataset.index];
    if (u) openChat(u.userId, u.userName);
  },

  onPeerInput(e) {
    this.setData({ peerId: e.detail.value.trim(), error: '' });
  },

  async onOpenPeer() {
    if (this.data.busy) return;
    const peerId = this.data.peerId;
    const problem = checkUserId(peerId);
    if (problem) {
      this.setData({ error: problem });
      return;
    }
    if (this.store.me && peerId === this.store.me.userId) {
      this.setData({ error: t('contacts.isMe') });
      return;
    }
    this.setData({ busy: true, error: '' });
    try {
      const user = await this.store.im.getUserInfo({ userId: peerId });
      this.setData({ busy: false });
      openChat(user.userId, user.userName || user.userId);
    } catch (err) {
      this.setData({
        busy: false,
        error: err && err.code === 'E_NOT_FOUND' ? t('contacts.notFound', { id: peerId }) : describeError(err),
      });
    }
  },
});
