import type { Unsubscribe } from '../../src/adapter';

/**
 * The listeners one adapter instance has put on its platform. Each can be removed alone (the
 * client's unsubscribe) and all of them at once (`adapter.destroy()`), and never twice.
 */
export class Cleanups {
  private readonly live = new Set<Unsubscribe>();

  track(undo: () => void): Unsubscribe {
    const off = () => {
      if (!this.live.delete(off)) return;
      undo();
    };
    this.live.add(off);
    return off;
  }

  releaseAll(): void {
    for (const off of [...this.live]) off();
  }
}
