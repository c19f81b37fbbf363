import type { SocketLike } from '../adapter';
import { decodeAck } from '../core/envelope';
import { ImError } from '../core/errors';

interface Pending {
  timer: ReturnType<typeof setTimeout>;
  reject: (e: ImError) => void;
}

/**
 * Request/notify over the current socket. A request waits for its ack at most `timeout` ms, and
 * fails at once with E_NOT_CONNECTED when the connection goes (its ack can no longer come).
 */
export class Rpc {
  private readonly pending = new Set<Pending>();

  constructor(
    private readonly socket: () => SocketLike | undefined,
    private readonly timeout: () => number,
  ) {}

  get connected(): boolean {
    return !!this.socket()?.connected;
  }

  /** An emit with ack as a promise of the envelope's data. */
  request<T>(event: string, payload: unknown, context: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const socket = this.socket();
      if (!socket?.connected) {
        reject(new ImError('E_NOT_CONNECTED', `${context}: not connected.`));
        return;
      }
      const ms = this.timeout();
      const pending: Pending = {
        timer: setTimeout(() => {
          this.pending.delete(pending);
          reject(new ImError('E_TIMEOUT', `${context}: no answer from the server within ${ms} ms.`));
        }, ms),
        reject,
      };
      this.pending.add(pending);
      socket.emit(event, payload, (res: unknown) => {
        if (!this.pending.delete(pending)) return; // already failed or timed out
        clearTimeout(pending.timer);
        try {
          resolve(decodeAck<T>(res, context));
        } catch (err) {
          reject(err as ImError);
        }
      });
    });
  }

  /**
   * `request()` that waits out a rate limit (42900 "retry after N ms", at most 10 s a time, a few
   * times) instead of failing: for catch-up, whose requests come in bursts after a reconnect and
   * share the user's bucket.
   */
  async patiently<T>(event: string, payload: unknown, context: string, attempts = 6): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await this.request<T>(event, payload, context);
      } catch (err) {
        if (!(err instanceof ImError) || err.code !== 'E_RATE_LIMITED' || i >= attempts) throw err;
        const hinted = Number(/retry after (\d+) ms/.exec(err.message)?.[1]);
        await this.pause(Math.min(Math.max(Number.isFinite(hinted) ? hinted : 1000, 50), 10_000));
      }
    }
  }

  /** A wait that ends early (rejecting) when the connection goes, like a request. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = {
        timer: setTimeout(() => {
          this.pending.delete(pending);
          resolve();
        }, ms),
        reject,
      };
      this.pending.add(pending);
    });
  }

  /**
   * A fire-and-forget emit; `onAck` (if given) gets the raw answer, with no timeout. False when not
   * connected: nothing was sent.
   */
  notify(event: string, payload: unknown, onAck?: (res: any) => void): boolean {
    const socket = this.socket();
    if (!socket?.connected) return false;
    if (onAck) socket.emit(event, payload, onAck);
    else socket.emit(event, payload);
    return true;
  }

  /** The connection is gone: every waiting request fails now rather than at its timeout. */
  failPending(): void {
    for (const p of [...this.pending]) {
      clearTimeout(p.timer);
      p.reject(new ImError('E_NOT_CONNECTED', 'the connection was lost before the server answered.'));
    }
    this.pending.clear();
  }
}
