import type { SocketListener, Unsubscribe } from '../adapter';
import { listen, type EventTarget } from '../connection/listen';
import type { Log } from '../core/logger';

/**
 * Routes server → client socket events to the module that owns them. Modules register once; the
 * connection attaches every route to each socket it creates.
 */
export class Router {
  private readonly routes = new Map<string, SocketListener>();

  constructor(private readonly log: Log) {}

  /** One owner per event: a second registration is a wiring bug. */
  route(event: string, handler: SocketListener): void {
    if (this.routes.has(event)) throw new Error(`internal: socket event "${event}" already has a handler`);
    this.routes.set(event, handler);
  }

  /** Attaches every route to `target`; returns what removes them again. */
  attach(target: EventTarget): Unsubscribe[] {
    return [...this.routes].map(([event, fn]) => listen(target, event, fn, this.log));
  }
}
