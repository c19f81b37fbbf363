// One ImClient for the whole mini-program (WeChat allows only a few sockets per app), created at
// launch and shared with every page through globalData, together with the store pages subscribe to.
const { ImClient } = require('comind-im-client-sdk');
const config = require('./config');
const { ChatStore } = require('./utils/store');

App({
  globalData: {
    im: null,
    store: null,
  },

  onLaunch() {
    // No `adapter` option: inside a mini-program the SDK picks its weapp adapter
    // (wx.connectSocket / wx.request / wx storage, network and show/hide events).
    let store = null;
    const im = new ImClient(
      Object.assign(
        {
          serverUrl: config.socketServer,
          apiServer: config.apiServer,
          // Called when the SDK needs a fresh token: before the current one expires, or when the
          // server refuses an expired one (e.g. on a launch after a day away). Development: the IM
          // server issues one for the app secret in config.js. Production: return the token your
          // backend mints instead; nothing else changes.
          tokenProvider: () => store.freshToken(),
        },
        config.clientOptions,
      ),
    );
    store = new ChatStore(im, config);
    this.globalData.im = im;
    this.globalData.store = store;
    // Signed in before? Reconnect with the saved token; pages render cached data meanwhile.
    this.globalData.store.restore();
  },
});
