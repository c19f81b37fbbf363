import { isThenable } from '../shared/promise';
import type { Channel, OpenChannel } from '../shared/lite-socket';
import type { WxApi } from './wx-types';

/**
 * The SocketTask returned by wx.connectSocket and uni.connectSocket (with a callback), or handed
 * over by the promise Taro.connectSocket returns (the subset used here).
 */
interface SocketTask {
  send(opts: { data: string | ArrayBuffer; fail?: (e: { errMsg: string }) => void }): void;
  close(opts: { code?: number; reason?: string }): void;
  onOpen(cb: () => void): void;
  onClose(cb: (res: { code?: number; reason?: string }) => void): void;
  onError(cb: (res: { errMsg?: string }) => void): void;
  onMessage(cb: (res: { data: string | ArrayBuffer }) => void): void;
}

function closeQuietly(task: SocketTask | undefined): void {
  try {
    task?.close({ code: 1000, reason: 'client close' });
  } catch {
    // already closed
  }
}

/**
 * The lite Socket.IO client's channel over `connectSocket`'s SocketTask. Made per API object, so
 * two simulated phones in one process never share state.
 */
export function socketTaskChannel(api: Pick<WxApi, 'connectSocket'>): OpenChannel {
  return (url, events) => {
    let task: SocketTask | undefined;
    let done = false;
    const end = (error?: string) => {
      if (done) return;
      done = true;
      closeQuietly(task);
      task = undefined;
      events.close(error);
    };
    const attach = (t: SocketTask | undefined) => {
      if (done) return closeQuietly(t); // closed before the task arrived
      if (!t || typeof t.onOpen !== 'function') return end('connectSocket returned no SocketTask');
      task = t;
      t.onMessage((res) => {
        if (!done) events.message(res?.data);
      });
      t.onError((res) => end(res?.errMsg ?? 'socket error'));
      t.onClose(() => end());
    };
    const returned = api.connectSocket({
      url,
      // WeChat reports a refused task (e.g. the 5-socket limit) through fail, not onError.
      fail: (e) => end(e?.errMsg ?? 'connectSocket:fail'),
    });
    // Taro's connectSocket hands the task over in a promise (resolved after `success`).
    if (isThenable(returned)) returned.then((t) => attach(t as SocketTask), (e: { errMsg?: string } | undefined) => end(e?.errMsg ?? 'connectSocket:fail'));
    else attach(returned as SocketTask | undefined);
    const channel: Channel = {
      // A failed send means the link is broken: the reconnect and the outbox's resend follow.
      send: (data) => task?.send({ data, fail: (e) => end(e?.errMsg ?? 'send:fail') }),
      close: () => {
        done = true;
        closeQuietly(task);
        task = undefined;
      },
    };
    return channel;
  };
}
