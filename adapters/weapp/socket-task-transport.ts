import { Transport } from 'engine.io-client';
import { encodePacket, type Packet, type RawData } from 'engine.io-parser';
import { isThenable } from '../shared/promise';
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
 * An engine.io transport over WeChat's SocketTask, so socket.io-client 4 runs in mini-programs
 * with its own reconnection and protocol. engine.io-client 6 accepts transport constructors in
 * `transports`; this replaces weapp.socket.io (a separate Socket.IO 3 build), which alone is larger
 * than the whole SDK with this transport. The class is made per `wx` object, so two simulated
 * phones in one process never share state.
 */
export function createSocketTaskTransport(wx: Pick<WxApi, 'connectSocket'>): new (opts: any) => Transport {
  return class SocketTaskTransport extends Transport {
    private task: SocketTask | undefined;
    /** Bumped by every open and close, so a task that arrives late (promise API) is not adopted. */
    private attempt = 0;

    override get name(): string {
      return 'websocket';
    }

    protected override doOpen(): void {
      const schema = this.opts.secure ? 'wss' : 'ws';
      const query: Record<string, unknown> = { ...(this.query as Record<string, unknown>) };
      if (!this.supportsBinary) query.b64 = 1;
      const attempt = ++this.attempt;
      let failed = false;
      const fail = (errMsg: string) => {
        if (failed || attempt !== this.attempt) return;
        failed = true;
        this.task = undefined;
        this.onError('websocket error', new Error(errMsg));
      };
      const returned = wx.connectSocket({
        url: this.createUri(schema, query),
        header: (this.opts.extraHeaders as Record<string, string> | undefined) ?? {},
        // WeChat reports a refused task (e.g. the 5-socket limit) through fail, not onError.
        fail: (e) => fail(e?.errMsg ?? 'connectSocket:fail'),
      });
      if (isThenable(returned)) {
        // Taro's connectSocket hands the task over in a promise (resolved after `success`).
        returned.then(
          (task) => {
            if (attempt !== this.attempt) closeQuietly(task as SocketTask); // closed before it arrived
            else if (!failed) this.attach(task as SocketTask | undefined, fail);
          },
          (e: { errMsg?: string } | undefined) => fail(e?.errMsg ?? 'connectSocket:fail'),
        );
        return;
      }
      this.attach(returned as SocketTask | undefined, fail);
    }

    private attach(task: SocketTask | undefined, fail: (errMsg: string) => void): void {
      if (!task || typeof task.onOpen !== 'function') {
        fail('connectSocket returned no SocketTask');
        return;
      }
      this.task = task;
      task.onOpen(() => this.onOpen());
      task.onMessage((res) => this.onData(res.data as RawData));
      task.onError((res) => fail(res?.errMsg ?? 'socket error'));
      task.onClose((res) => {
        if (this.task !== task) return;
        this.task = undefined;
        this.onClose({ description: 'websocket connection closed', context: res });
      });
    }

    protected override doClose(): void {
      this.attempt++;
      const task = this.task;
      this.task = undefined;
      task?.close({ code: 1000, reason: 'client close' });
    }

    protected override write(packets: Packet[]): void {
      this.writable = false;
      packets.forEach((packet, i) => {
        encodePacket(packet, this.supportsBinary, (data) => {
          this.task?.send({ data: data as string | ArrayBuffer });
          if (i === packets.length - 1) {
            // SocketTask has no drain event: like engine.io's own WebSocket transport, the write is
            // considered flushed on the next tick.
            Promise.resolve().then(() => {
              this.writable = true;
              this.emitReserved('drain');
            });
          }
        });
      });
    }
  };
}
