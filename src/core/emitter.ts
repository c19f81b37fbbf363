/**
 * A typed event emitter. Hand-written rather than mitt/eventemitter3 because the SDK needs two
 * things neither gives: a throwing listener must not stop the others or break the SDK's own state
 * machine (listeners are user code), and `once` must be removable with `off(original)`.
 */
export type Listener<A extends unknown[]> = (...args: A) => void;
export type EventMap = { [event: string]: unknown[] };

interface Entry {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- storage type; `on` enforces the map
  fn: (...args: any[]) => void;
  once: boolean;
}

export class Emitter<M extends EventMap> {
  private readonly listeners = new Map<keyof M, Entry[]>();

  constructor(private readonly onListenerError: (event: string, err: unknown) => void) {}

  on<K extends keyof M>(event: K, fn: Listener<M[K]>, once = false): void {
    const list = this.listeners.get(event) ?? [];
    list.push({ fn, once });
    this.listeners.set(event, list);
  }

  off<K extends keyof M>(event?: K, fn?: Listener<M[K]>): void {
    if (event === undefined) {
      this.listeners.clear();
      return;
    }
    if (!fn) {
      this.listeners.delete(event);
      return;
    }
    const list = this.listeners.get(event);
    if (!list) return;
    const idx = list.findIndex((e) => e.fn === fn);
    if (idx >= 0) list.splice(idx, 1);
    if (list.length === 0) this.listeners.delete(event);
  }

  emit<K extends keyof M>(event: K, ...args: M[K]): void {
    const list = this.listeners.get(event);
    if (!list) return;
    // Copy: a listener may add or remove listeners while we iterate.
    for (const entry of list.slice()) {
      if (entry.once) this.off(event, entry.fn);
      try {
        entry.fn(...args);
      } catch (err) {
        this.onListenerError(String(event), err);
      }
    }
  }

  listenerCount(event: keyof M): number {
    return this.listeners.get(event)?.length ?? 0;
  }
}
