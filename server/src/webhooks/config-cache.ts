import type { WebhookConfig } from './types';

interface Entry {
  value: WebhookConfig | null;
  at: number;
}

/**
 * Each app's webhook configuration, kept for `ttlMs`, so an app without webhooks costs a map
 * lookup per send. A change made on this node is seen at once (invalidate); one made on another
 * node of a cluster within `ttlMs`. Bounded: the least recently loaded apps are forgotten first.
 */
export class ConfigCache {
  private readonly entries = new Map<string, Entry>();
  /** One load per app at a time, whoever asks meanwhile waits for it. */
  private readonly loads = new Map<string, Promise<WebhookConfig | null>>();
  /** Bumped by invalidate: a load that started before a change must not store what it read. */
  private generation = 0;

  constructor(
    private readonly load: (appId: string) => Promise<WebhookConfig | undefined>,
    private readonly ttlMs: number,
    private readonly onError: (err: unknown) => void,
    private readonly max = 10_000,
  ) {}

  /**
   * Synchronous: the configuration if known (null: none), undefined if it must be loaded first.
   * A stale entry is still answered, and reloaded in the background for the next caller.
   */
  peek(appId: string): WebhookConfig | null | undefined {
    const e = this.entries.get(appId);
    if (!e) return undefined;
    if (Date.now() - e.at > this.ttlMs) this.refresh(appId).catch(this.onError);
    return e.value;
  }

  /** The configuration, loaded when it is not known or stale. */
  async get(appId: string): Promise<WebhookConfig | null> {
    const e = this.entries.get(appId);
    if (e && Date.now() - e.at <= this.ttlMs) return e.value;
    return this.refresh(appId);
  }

  invalidate(appId: string): void {
    this.generation++;
    this.entries.delete(appId);
    this.loads.delete(appId);
  }

  private refresh(appId: string): Promise<WebhookConfig | null> {
    const running = this.loads.get(appId);
    if (running) return running;
    const generation = this.generation;
    const loading = this.load(appId)
      .then((c) => {
        if (this.generation === generation) this.set(appId, { value: c ?? null, at: Date.now() });
        return c ?? null;
      })
      .finally(() => {
        if (this.loads.get(appId) === loading) this.loads.delete(appId);
      });
    this.loads.set(appId, loading);
    return loading;
  }

  private set(appId: string, entry: Entry): void {
    this.entries.delete(appId);
    this.entries.set(appId, entry);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as string);
  }
}
