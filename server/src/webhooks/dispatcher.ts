import type { Dispatcher as Connections } from 'undici';
import { postSigned } from './http-call';
import type { WebhookStore } from './store';
import type { QueuedEvent, WebhookConfig } from './types';

/** After the 1st..7th failed attempt; 8 attempts over about 31 minutes in all. */
export const DEFAULT_RETRY_DELAYS_MS = [10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 720_000];

export type DeliveryOutcome = 'delivered' | 'retry' | 'gave_up' | 'dropped';

export interface DispatcherOptions {
  store: WebhookStore;
  /** The app's configuration (cached); `fresh`: read from the database, past the cache. */
  config(appId: string, fresh?: boolean): Promise<WebhookConfig | null>;
  /** ms between failed attempts; the event is given up after `retryDelaysMs.length + 1` attempts. */
  retryDelaysMs: number[];
  /** ms between looks at the queue (events queued on this node are sent at once). */
  pollMs: number;
  /** ms one delivery may take. */
  timeoutMs: number;
  /** Deliveries in flight on this node, and per app. */
  maxConcurrent: number;
  maxConcurrentPerApp: number;
  /** The connections calls are made on (held to the destination policy). */
  agent: Connections;
  record(event: string, outcome: DeliveryOutcome): void;
  log: (level: 'warn' | 'error', msg: string, err?: unknown) => void;
}

/**
 * Sends queued events (afterSend, userOnline, userOffline, groupChanged) to the apps' backends:
 * at least once, with retries on any failure, the same idempotency key (the event id) and body
 * on every attempt. Each node runs one; PostgreSQL's claims let them share the queue. A claimed
 * event is out of sight for its lease, so one a node took and never finished (it died) is retried.
 */
export class Dispatcher {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private again = false;
  private stopped = true;
  private inflight = 0;
  private heldCount = 0;
  private readonly perApp = new Map<string, number>();
  /** Claimed events of apps at their cap, started as the app's deliveries finish (bounded by maxConcurrent). */
  private readonly held = new Map<string, QueuedEvent[]>();
  private readonly deliveries = new Set<Promise<void>>();
  private readonly abort = new AbortController();

  constructor(private readonly opts: DispatcherOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Something was queued: look now rather than at the next poll. */
  wake(): void {
    if (!this.stopped) this.schedule(0);
  }

  /**
   * Stops claiming and cuts deliveries under way short: those stay in the queue, due at once, and
   * are sent again by this node after a restart or by another one.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort.abort();
    const held = [...this.held.values()].flat();
    this.held.clear();
    this.heldCount = 0;
    await Promise.all([...this.deliveries, ...held.map((e) => this.release(e))]);
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  /**
   * Claims while there is room, a few events at a time, leaving out apps already at their share:
   * one app's backlog cannot take every slot, and nothing claimed has to be put back.
   */
  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      for (;;) {
        const free = this.opts.maxConcurrent - this.inflight - this.heldCount;
        if (free <= 0 || this.stopped) break;
        const limit = Math.min(free, this.opts.maxConcurrentPerApp);
        const skip = [...this.perApp].filter(([app, n]) => n >= this.opts.maxConcurrentPerApp || this.held.has(app)).map(([app]) => app);
        const now = Date.now();
        const events = await this.opts.store.claim(now, limit, now + this.leaseMs(), skip);
        for (const e of events) this.begin(e);
        if (events.length < limit) break;
      }
    } catch (err) {
      this.opts.log('warn', 'reading the webhook queue failed', err);
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    const soon = this.again;
    this.again = false;
    this.schedule(soon ? 0 : this.opts.pollMs);
  }

  /** Long enough for the event to wait its turn behind its app's other held events, then be sent. */
  private leaseMs(): number {
    return this.opts.timeoutMs * (Math.ceil(this.opts.maxConcurrent / this.opts.maxConcurrentPerApp) + 1) + 30_000;
  }

  private begin(e: QueuedEvent): void {
    const busy = this.perApp.get(e.appId) ?? 0;
    if (busy >= this.opts.maxConcurrentPerApp) {
      const list = this.held.get(e.appId) ?? [];
      list.push(e);
      this.held.set(e.appId, list);
      this.heldCount++;
      return;
    }
    this.perApp.set(e.appId, busy + 1);
    this.inflight++;
    const done = this.deliver(e)
      .catch((err: unknown) => this.opts.log('error', 'a webhook delivery failed', err))
      .finally(() => {
        this.inflight--;
        const left = (this.perApp.get(e.appId) ?? 1) - 1;
        if (left > 0) this.perApp.set(e.appId, left);
        else this.perApp.delete(e.appId);
        this.deliveries.delete(done);
        if (this.stopped) return;
        const next = this.held.get(e.appId)?.shift();
        if (next) {
          this.heldCount--;
          if (!this.held.get(e.appId)!.length) this.held.delete(e.appId);
          this.begin(next);
        }
        this.schedule(0);
      });
    this.deliveries.add(done);
  }

  /** Back in the queue, due now, the attempt not counted. */
  private release(e: QueuedEvent): Promise<void> {
    return this.opts.store.retryAt(e.id, e.attempts, Date.now(), 'interrupted: the server stopped').catch((err: unknown) => this.opts.log('warn', 'returning a webhook event to the queue failed', err));
  }

  private async deliver(e: QueuedEvent): Promise<void> {
    let config = await this.opts.config(e.appId);
    // Another node may have queued it under a configuration this node's cache has not seen yet
    // (a webhook just set up, an event just added): ask the database before dropping it.
    if (!config || !config.events.includes(e.event)) config = await this.opts.config(e.appId, true);
    if (!config || !config.events.includes(e.event)) {
      // The app removed its webhook or this event from it since: nobody wants it now.
      await this.opts.store.remove(e.id);
      this.opts.record(e.event, 'dropped');
      return;
    }
    const result = await postSigned({ url: config.url, secret: config.secret, event: e.event, id: e.id, body: e.body, timeoutMs: this.opts.timeoutMs, signal: this.abort.signal, dispatcher: this.opts.agent });
    if (result.ok) {
      await this.opts.store.remove(e.id);
      this.opts.record(e.event, 'delivered');
      return;
    }
    // Cut short by stop(): due again at once (after a restart, or on another node), not counted.
    if (this.abort.signal.aborted) return this.release(e);
    const attempts = e.attempts + 1;
    const delay = this.opts.retryDelaysMs[attempts - 1];
    if (delay === undefined) {
      await this.opts.store.remove(e.id);
      this.opts.record(e.event, 'gave_up');
      this.opts.log('warn', `webhook ${e.event} ${e.id} of app ${e.appId} given up after ${attempts} attempts (${result.error})`);
      return;
    }
    // A little jitter, so the events of one outage do not all come back at the same instant.
    const jitter = Math.floor(delay * 0.1 * Math.random());
    await this.opts.store.retryAt(e.id, attempts, Date.now() + delay + jitter, result.error ?? 'failed');
    this.opts.record(e.event, 'retry');
  }
}
