import { isThenable } from '../shared/promise';
import type { Dialect } from '../shared/dialect';
import type { Channel, OpenChannel } from '../shared/lite-socket';

type Fail = { errMsg?: string; errorMessage?: string };
/** A frame as onMessage hands it over: `{ data }`, or on Alipay's SocketTask `{ data: { data, isBuffer } }`. */
type Frame = { data?: unknown; isBuffer?: boolean };

/**
 * The SocketTask returned by wx.connectSocket and its kin (uni.connectSocket with a callback), or
 * handed over by the promise Taro.connectSocket returns (the subset used here).
 */
interface SocketTask {
  send(opts: { data: string; fail?: (e: Fail) => void }): void;
  close(opts: { code?: number; reason?: string }): void;
  onClose(cb: () => void): void;
  onError(cb: (res: Fail) => void): void;
  onMessage(cb: (res: Frame) => void): void;
}

/** The app-wide single-socket API (`onSocketMessage`, `sendSocketMessage`, `closeSocket`) that older Alipay-family clients fall back to. */
type GlobalSocketApi = Record<'onSocketMessage' | 'onSocketError' | 'onSocketClose' | 'sendSocketMessage' | 'closeSocket', ((a: unknown) => void) | undefined> &
  Partial<Record<'offSocketMessage' | 'offSocketError' | 'offSocketClose', (a: unknown) => void>>;

function closeQuietly(task: SocketTask | undefined): void {
  try {
    task?.close({ code: 1000, reason: 'client close' });
  } catch {
    // already closed
  }
}

/**
 * Where connectSocket handed over no SocketTask although `multiple: true` asked for one (hosts of
 * Alipay's framework that keep one socket per app, as DingTalk and mPaaS are reported to), the
 * connection it opened is driven through the app-wide API, as a SocketTask. Its listeners are the
 * app's until `drop()`; the `done` guard of the caller covers hosts without off* functions.
 */
function globalSocketTask(api: GlobalSocketApi, offs: Array<() => void>): SocketTask | undefined {
  if (typeof api.onSocketMessage !== 'function' || typeof api.sendSocketMessage !== 'function') return undefined;
  const on = (event: 'Message' | 'Error' | 'Close') => (cb: (a: never) => void) => {
    api[`onSocket${event}`]!.call(api, cb);
    offs.push(() => api[`offSocket${event}`]?.call(api, cb));
  };
  return {
    send: (o) => api.sendSocketMessage!.call(api, o),
    close: (o) => api.closeSocket?.call(api, o),
    onMessage: on('Message'),
    onError: on('Error'),
    onClose: on('Close'),
  };
}

/**
 * The lite Socket.IO client's channel over `connectSocket`'s SocketTask. Made per API object, so
 * two simulated phones in one process never share state. `dialect` (see adapters/shared/dialect.ts):
 * Alipay's `multiple: true` and nested frames, Douyin's task that is usable only after `success`.
 */
export function socketTaskChannel(api: { connectSocket(opts: Record<string, unknown>): unknown }, dialect: Dialect = {}): OpenChannel {
  return (url, events) => {
    let task: SocketTask | undefined;
    let done = false;
    let returned: unknown;
    let handed = false;
    let ready = !dialect.lateTask;
    const offs: Array<() => void> = [];
    const drop = () => {
      closeQuietly(task);
      task = undefined;
      for (const off of offs.splice(0)) off();
    };
    const end = (error?: string) => {
      if (done) return;
      done = true;
      drop();
      events.close(error);
    };
    const attach = () => {
      if (!ready || !handed || task) return;
      const t = (returned && typeof (returned as SocketTask).onMessage === 'function' ? returned : globalSocketTask(api as unknown as GlobalSocketApi, offs)) as SocketTask | undefined;
      if (done) return closeQuietly(t); // closed before the task arrived
      if (!t) return end('connectSocket returned no SocketTask');
      task = t;
      t.onMessage((res) => {
        if (done) return;
        const inner = res?.data as Frame | undefined;
        const frame = inner && typeof inner === 'object' && 'data' in inner ? inner : res;
        // Alipay's binary frame is base64 text marked isBuffer: a binary frame for the client (the server sends none).
        events.message(frame?.isBuffer ? null : frame?.data);
      });
      t.onError((res) => end(res?.errMsg ?? res?.errorMessage ?? 'socket error'));
      t.onClose(() => end());
    };
    const hand = (t: unknown) => {
      returned = t;
      handed = true;
      attach();
    };
    returned = api.connectSocket({
      url,
      ...(dialect.ali ? { multiple: true } : {}),
      success: () => {
        ready = true;
        attach();
      },
      // WeChat reports a refused task (e.g. the 5-socket limit) through fail, not onError.
      fail: (e: Fail) => end(e?.errMsg ?? e?.errorMessage ?? 'connectSocket:fail'),
    });
    // Taro's connectSocket hands the task over in a promise (resolved after `success`).
    if (isThenable(returned))
      returned.then(
        (t) => {
          ready = true;
          hand(t);
        },
        (e: Fail | undefined) => end(e?.errMsg ?? 'connectSocket:fail'),
      );
    else hand(returned);
    const channel: Channel = {
      // A failed send means the link is broken: the reconnect and the outbox's resend follow.
      send: (data) => task?.send({ data, fail: (e) => end(e?.errMsg ?? e?.errorMessage ?? 'send:fail') }),
      close: () => {
        done = true;
        drop();
      },
    };
    return channel;
  };
}
