// The chat page's logic, without UI: one ImClient per session, private chat with one peer.
// The adapter is picked by the SDK (the platform's own API object on a mini-program: wx, my, tt...;
// web on H5); pass `adapter` to choose it, or `viaFramework: true` to route every call through
// Taro's own APIs (createTaroAdapter({ Taro })).
import Taro from '@tarojs/taro';
import { ImClient, createTaroAdapter } from 'comind-im-client-sdk';
import defaults from './config';

export function createChatSession(overrides = {}) {
  const cfg = { ...defaults, ...overrides };
  const im = new ImClient({
    serverUrl: cfg.serverUrl,
    apiServer: cfg.apiServer,
    adapter: cfg.adapter || (cfg.viaFramework ? createTaroAdapter({ Taro }) : undefined),
    logLevel: cfg.logLevel || 'warn',
    ...(cfg.logger ? { logger: cfg.logger } : {}),
  });
  const state = { status: im.getStatus(), me: '', peer: '', messages: [], error: '' };
  const listeners = new Set();
  const changed = () => listeners.forEach((fn) => fn(state));
  const add = (m) => {
    if (state.messages.some((x) => x.messageId === m.messageId)) return;
    state.messages = [...state.messages, m];
    changed();
  };

  im.on('status', (status) => {
    state.status = status;
    changed();
  });
  im.on('imchat', (m) => {
    if (m.chatType === 0 && (m.from === state.peer || m.to === state.peer)) add(m);
  });
  im.on('error', (err) => {
    state.error = err.message;
    changed();
  });

  return {
    state,
    client: im,
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    async signIn({ userId, userName, peerId }) {
      await im.getToken({ appId: cfg.appId, appSecret: cfg.appSecret, userId, userName: userName || userId });
      await im.connect();
      state.me = userId;
      state.peer = peerId;
      const history = await im.getPrivateHistoryMessages({ peerId, limitSize: 20 });
      history.forEach(add);
      changed();
    },
    async send(content) {
      const m = await im.sendPrivateMessage({ content, recipientId: state.peer });
      add(m);
      return m;
    },
    destroy() {
      listeners.clear();
      im.destroy();
    },
  };
}
