const config = require('../../config');
const { avatar, checkUserId, describeError } = require('../../utils/format');
const { pick, section, setPageTitle, t } = require('../../utils/i18n');

Page({
  data: {
    demoUsers: [],
    userId: '',
    userName: '',
    error: '',
    busyUserId: '',
    i18n: section('login'),
    noticeServer: t('login.noticeServer', { apiServer: config.apiServer, appId: config.appId }),
  },

  onLoad() {
    setPageTitle('title.login');
    this.store = getApp().globalData.store;
    if (this.store.me) {
      // Signed in on an earlier launch: straight to the chats (they render from cache at once).
      this.enter();
      return;
    }
    this.setData({
      demoUsers: config.demoUsers.map((u) => {
        const a = avatar(u.userId, u.userName);
        return Object.assign({}, u, { title: pick(u.title), avatarText: a.text, avatarColor: a.color });
      }),
    });
  },

  onPickDemo(e) {
    const user = config.demoUsers[e.currentTarget.dataset.index];
    if (user) this.signIn({ userId: user.userId, userName: user.userName });
  },

  onUserIdInput(e) {
    this.setData({ userId: e.detail.value.trim(), error: '' });
  },

  onUserNameInput(e) {
    this.setData({ userName: e.detail.value, error: '' });
  },

  onSignIn() {
    const userId = this.data.userId;
    const problem = checkUserId(userId);
    if (problem) {
      this.setData({ error: problem });
      return;
    }
    const userName = this.data.userName.trim() || userId;
    this.signIn({ userId, userName });
  },

  async signIn(user) {
    if (this.data.busyUserId) return;
    this.setData({ busyUserId: user.userId, error: '' });
    try {
      await this.store.signIn(user);
      this.setData({ busyUserId: '' });
      this.enter();
    } catch (err) {
      this.setData({ busyUserId: '', error: this.explain(err) });
    }
  },

  explain(err) {
    const where = { apiServer: config.apiServer, appId: config.appId };
    if (err && err.code === 'E_NETWORK') return t('login.network', where);
    if (err && err.code === 'E_AUTH') return t('login.auth', where);
    return describeError(err);
  },

  enter() {
    wx.switchTab({ url: '/pages/conversations/conversations' });
  },
});
