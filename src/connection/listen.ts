import type { SocketListener, Unsubscribe } from '../adapter';
import type { Log } from '../core/logger';

export type EventTarget = { on(e: string, f: SocketListener): unknown; off(e?: string, f?: SocketListener): unknown };

/**
 * Adds one listener that can never throw into the socket's own event loop (a throw is logged);
 * the returned function removes it.
 */
export function listen(target: EventTarget, event: string, fn: SocketListener, log: Log): Unsubscribe {
  const guarded = (...args: unknown[]) => {
    try {
      fn(...args);
    } catch (err) {
      log.error(`internal error handling "${event}"`, err);
    }
  };
  target.on(event, guarded);
  return () => target.off(event, guarded);
}
