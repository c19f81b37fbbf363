import type { ImAdapter, Unsubscribe } from '../adapter';
import type { Log } from '../core/logger';

export interface PlatformEvents {
  /** The device is back online. */
  online(): void;
  /** The app came to the foreground. */
  foreground(): void;
  /** The app went to the background (a mini-program's network is cut a few seconds later). */
  background(): void;
}

/** The adapter's network and app-lifecycle hooks, held while a connection is wanted. */
export class PlatformHooks {
  private cleanup: Unsubscribe[] = [];
  private shown = true;

  constructor(
    private readonly log: Log,
    private readonly on: PlatformEvents,
  ) {}

  /** False between an app hide and the next show. */
  get foreground(): boolean {
    return this.shown;
  }

  install(adapter: ImAdapter): void {
    if (this.cleanup.length) return;
    if (adapter.onNetworkChange) {
      this.cleanup.push(
        adapter.onNetworkChange((online) => {
          this.log.debug(`network ${online ? 'online' : 'offline'}`);
          if (online) this.on.online();
        }),
      );
    }
    if (adapter.onAppStateChange) {
      this.cleanup.push(
        adapter.onAppStateChange((state) => {
          this.log.debug(`app ${state}`);
          this.shown = state === 'foreground';
          if (this.shown) this.on.foreground();
          else this.on.background();
        }),
      );
    }
  }

  remove(): void {
    for (const undo of this.cleanup.splice(0)) undo();
  }
}
