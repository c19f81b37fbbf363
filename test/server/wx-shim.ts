/**
 * Just enough of the mini-program socket API for weapp.socket.io in Node: `wx.connectSocket` and
 * the SocketTask it returns (onOpen/onMessage/onClose/onError/send/close), backed by `ws`.
 * Failures are reported the mini-program way (`fail({ errMsg })`, `onError({ errMsg })`).
 */
import WebSocket from 'ws';

type Cb<T> = (arg: T) => void;

interface SocketTask {
  onOpen(cb: Cb<{ header: Record<string, string> }>): void;
  onMessage(cb: Cb<{ data: string | ArrayBuffer }>): void;
  onClose(cb: Cb<{ code: number; reason: string }>): void;
  onError(cb: Cb<{ errMsg: string }>): void;
  send(opts: { data: string | ArrayBuffer; success?: Cb<{ errMsg: string }>; fail?: Cb<{ errMsg: string }> }): void;
  close(opts?: { code?: number; reason?: string; success?: Cb<{ errMsg: string }>; fail?: Cb<{ errMsg: string }> }): void;
}

export interface WxShim {
  wx: { connectSocket(opts: { url: string; header?: Record<string, string>; protocols?: string[] }): SocketTask };
  /** Sockets not yet closed. */
  openSockets(): number;
  /** Closes every socket the shim opened. */
  destroy(): void;
}

export function createWxShim(): WxShim {
  const sockets = new Set<WebSocket>();

  const connectSocket = (opts: { url: string; header?: Record<string, string>; protocols?: string[] }): SocketTask => {
    const ws = new WebSocket(opts.url, opts.protocols ?? [], { headers: opts.header });
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    return {
      onOpen: (cb) => ws.on('open', () => cb({ header: {} })),
      onMessage: (cb) =>
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          if (!isBinary) return cb({ data: data.toString('utf8') });
          const copy = new Uint8Array(data.byteLength);
          copy.set(data);
          cb({ data: copy.buffer });
        }),
      onClose: (cb) => ws.on('close', (code: number, reason: Buffer) => cb({ code, reason: reason.toString('utf8') })),
      onError: (cb) => ws.on('error', (err: Error) => cb({ errMsg: `connectSocket:fail ${err.message}` })),
      send: ({ data, success, fail }) => {
        if (ws.readyState !== WebSocket.OPEN) {
          fail?.({ errMsg: 'sendSocketMessage:fail WebSocket is not connected' });
          return;
        }
        ws.send(typeof data === 'string' ? data : Buffer.from(data), (err) => {
          if (err) fail?.({ errMsg: `sendSocketMessage:fail ${err.message}` });
          else success?.({ errMsg: 'sendSocketMessage:ok' });
        });
      },
      close: (o = {}) => {
        // ws accepts only 1000 and 3000-4999 from an application.
        const code = o.code === 1000 || (o.code !== undefined && o.code >= 3000 && o.code <= 4999) ? o.code : 1000;
        ws.close(code, o.reason);
        o.success?.({ errMsg: 'closeSocket:ok' });
      },
    };
  };

  return {
    wx: { connectSocket },
    openSockets: () => sockets.size,
    destroy: () => {
      for (const ws of sockets) ws.terminate();
      sockets.clear();
    },
  };
}

/**
 * Loads weapp.socket.io with the shim installed as the global `wx` (its bundle calls wx.* directly
 * and its UMD wrapper reads `window` at load). Returns its `io` and a function that restores the
 * globals as they were.
 */
export function loadWeappSocketIo(shim: WxShim): { io: (url: string, opts?: Record<string, unknown>) => any; restore: () => void } {
  const g = globalThis as Record<string, unknown>;
  const hadWindow = 'window' in g;
  const hadWx = 'wx' in g;
  const previousWx = g.wx;
  g.wx = shim.wx;
  if (!hadWindow) g.window = g;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const io = require('weapp.socket.io');
  return {
    io,
    restore: () => {
      if (hadWx) g.wx = previousWx;
      else delete g.wx;
      if (!hadWindow) delete g.window;
    },
  };
}
