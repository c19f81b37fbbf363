const config = require('../../config');
const { avatar, checkUserId, describeError } = require('../../utils/format');

Page({
  data: {
    demoUsers: [],
    userId: '',
    userName: '',
    error: '',
    busyUserId: '',
    apiServer: config.apiServer,
    appId: config.appId,
  },

  onLoad() {
    this.store = getApp().globalData.store;
    if (this.store.me) {
      // Signed in on an earlier launch: straight to the chats (they render from cache at once).
      this.enter();
      return;
    }
    this.setData({
      demoUsers: config.demoUsers.map((u) => {
        const a = avatar(u.userId, u.userName);
        return Object.assign({}, u, { avatarText: a.text, avatarColor: a.color });
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
    if (err && err.code === 'E_NETWORK') {
      return `Cannot reach the IM server at ${config.apiServer}. Start it with IM_DEV_APP_ID=${config.appId} IM_DEV_APP_SECRET=… npm start, and in WeChat DevTools tick "Do not verify valid domain names".`;
    }
    if (err && err.code === 'E_AUTH') {
      return `The server does not know app "${config.appId}" with this secret. Start it with IM_DEV_APP_ID=${config.appId} IM_DEV_APP_SECRET=… (as in config.js).`;
    }
    return describeError(err);
  },

  enter() {
    wx.switchTab({ url: '/pages/conversations/conversations' });
  },
});
