import { randomUUID } from 'node:crypto';
import type { Agent } from 'undici';
import type { GroupChangeEvent } from '../domain/group-admin';
import { ApiError, Code } from '../errors';
import type { PresenceInfo } from '../realtime/presence';
import type { Caller, PreparedSend, SendInput } from '../service';
import type { Outbox, SendOutcome, SendRequest, StoredMessage } from '../storage/types';
import { BeforeSend, type BeforeSendOutcome } from './before-send';
import { ConfigCache } from './config-cache';
import { DEFAULT_DESTINATIONS, destinationProblem, type DestinationPolicy } from './destinations';
import { DEFAULT_RETRY_DELAYS_MS, Dispatcher, type DeliveryOutcome } from './dispatcher';
import { destinationAgent } from './http-call';
import { checkWebhook, type WebhookInput } from './rules';
import type { NewQueuedEvent, WebhookStore } from './store';
import type { QueuedEventName, WebhookConfig } from './types';

export interface WebhookSettings {
  /** ms between failed attempts of a queued event (default 10 s, 30 s, 1, 2, 5, 10, 12 min: 8 attempts). */
  retryDelaysMs?: number[];
  /** ms between looks at the queue (default 1000; events queued on this node go at once). */
  pollMs?: number;
  /** ms one delivery of a queued event may take (default 5000). */
  deliveryTimeoutMs?: number;
  /** Queued deliveries in flight per node (default 32) and per app (default 8). */
  maxConcurrent?: number;
  maxConcurrentPerApp?: number;
  /** beforeSend calls in flight per app and node (default 64); past it onTimeout applies at once. */
  beforeSendConcurrency?: number;
  /** ms a configuration is cached (default 5000). */
  cacheMs?: number;
  /** Events an app may have waiting (default 100,000); past it new ones are dropped and logged. */
  maxPendingPerApp?: number;
  /** ms an afterSend waits for its presented message after the commit (default 30 s; see AFTER_SEND_HOLD_MS). */
  afterSendHoldMs?: number;
}

/** Where the dispatcher reports each call (the server's metrics, when it has them). */
export interface WebhookMetrics {
  webhookCall(event: string, outcome: string): void;
}

type Log = (level: 'info' | 'warn' | 'error', msg: string, err?: unknown) => void;

/** How long the digests of replaced sends are kept: past the longest a client keeps a send to retry. */
const REPLACEMENT_TTL_MS = 30 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;
/** How often the count of an app's waiting events is read again (between reads it is estimated). */
const PENDING_RECOUNT_MS = 10_000;
/**
 * How long an afterSend whose message still has to be presented (signed media URLs, a reply's
 * preview) waits for its final body after the commit. Past it (the server died in between) it goes
 * out with the message as stored.
 */
const AFTER_SEND_HOLD_MS = 30_000;

/** The afterSend events of one group commit, written by its transaction (see `afterSendOutbox`). */
export interface AfterSendBatch {
  outbox: Outbox;
  /** By message id: events written held back, to complete with the presented message. */
  held: Map<string, { id: string; appId: string; createdAt: number; heldUntil: number }>;
  /** Events written due at once: the dispatcher is woken for them. */
  due: number;
}

/**
 * The app's backend in the message flow (docs/webhooks.md): its configuration (cached), the
 * beforeSend check of every send, and the durable queue of afterSend, userOnline, userOffline and
 * groupChanged events with the dispatcher that sends them.
 */
export class Webhooks {
  private store: WebhookStore | undefined;
  private dispatcher: Dispatcher | undefined;
  private beforeSend: BeforeSend | undefined;
  private pruner: ReturnType<typeof setInterval> | undefined;
  private readonly cache: ConfigCache;
  /** Every call's connections, held to the destination policy. */
  private readonly agent: Agent;
  private readonly pending = new Map<string, { n: number; at: number; warnedAt: number }>();
  /** Presence and group events on their way into the queue: stop() lets them land first. */
  private readonly queueing = new Set<Promise<void>>();
  /** Set by the server when it has metrics (server/src/observability). */
  metrics: WebhookMetrics | undefined;

  constructor(
    private readonly settings: WebhookSettings,
    private readonly log: Log,
    /** Where calls may go (docs/webhooks.md, "Where calls may go"). */
    private readonly destinations: DestinationPolicy = DEFAULT_DESTINATIONS,
  ) {
    this.agent = destinationAgent(destinations);
    this.cache = new ConfigCache(
      async (appId) => this.store?.getConfig(appId),
      settings.cacheMs ?? 5000,
      (err) => log('warn', 'loading a webhook configuration failed', err),
    );
  }

  /** Once the database is open; without a store (a custom storage) webhooks are unavailable. */
  open(store: WebhookStore | undefined, findSent: ConstructorParameters<typeof BeforeSend>[0]['findSent']): void {
    this.store = store;
    if (!store) return;
    this.beforeSend = new BeforeSend({
      store,
      findSent,
      maxConcurrentPerApp: this.settings.beforeSendConcurrency ?? 64,
      agent: this.agent,
      record: (outcome: BeforeSendOutcome) => this.record('beforeSend', outcome),
      log: this.log,
    });
    this.dispatcher = new Dispatcher({
      store,
      config: (appId, fresh) => {
        if (fresh) this.cache.invalidate(appId);
        return this.cache.get(appId);
      },
      retryDelaysMs: this.settings.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
      pollMs: this.settings.pollMs ?? 1000,
      timeoutMs: this.settings.deliveryTimeoutMs ?? 5000,
      maxConcurrent: this.settings.maxConcurrent ?? 32,
      maxConcurrentPerApp: this.settings.maxConcurrentPerApp ?? 8,
      agent: this.agent,
      record: (event, outcome: DeliveryOutcome) => this.record(event, outcome),
      log: this.log,
    });
    this.dispatcher.start();
    this.pruner = setInterval(() => {
      store.pruneReplacements(Date.now() - REPLACEMENT_TTL_MS).catch((err: unknown) => this.log('warn', 'pruning beforeSend replacements failed', err));
    }, PRUNE_EVERY_MS);
    this.pruner.unref();
  }

  async stop(): Promise<void> {
    if (this.pruner) clearInterval(this.pruner);
    await Promise.all([...this.queueing]);
    await this.dispatcher?.stop();
    // Any beforeSend still out is cut short: the sockets are closed, no send is waiting on it.
    await this.agent.destroy().catch(() => undefined);
  }

  get available(): boolean {
    return this.store !== undefined;
  }

  // ------------------------------------------------------------- configuration

  async getConfig(appId: string): Promise<WebhookConfig | undefined> {
    return this.required().getConfig(appId);
  }

  /**
   * Stores the app's configuration; `secret` is set in the answer when it was generated. A URL the
   * destination policy refuses is 40000; `resolve: false` judges an IP address only, leaving a
   * name to the calls (for IM_WEBHOOK_URL, so a start does not wait on DNS).
   */
  async putConfig(appId: string, input: WebhookInput, opts: { resolve?: boolean } = {}): Promise<{ config: WebhookConfig; generatedSecret?: string }> {
    const store = this.required();
    const c = checkWebhook(input);
    const refused = await destinationProblem(this.destinations, c.url, opts);
    if (refused) throw new ApiError(Code.INVALID_ARGUMENT, refused);
    const config: WebhookConfig = { appId, url: c.url, secret: c.secret, events: c.events, beforeSend: c.beforeSend, updatedAt: Date.now() };
    await store.putConfig(config);
    this.cache.invalidate(appId);
    return c.generated ? { config, generatedSecret: c.secret } : { config };
  }

  /**
   * A warning for the log when every address `url`'s name resolves to is refused (undefined
   * otherwise): the start-up check of IM_WEBHOOK_URL, which does not stop the server.
   */
  async destinationWarning(url: string): Promise<string | undefined> {
    return destinationProblem(this.destinations, url);
  }

  /** Removes the configuration and every event still waiting for the app's backend. */
  async deleteConfig(appId: string): Promise<boolean> {
    const gone = await this.required().deleteConfig(appId);
    this.cache.invalidate(appId);
    this.pending.delete(appId);
    return gone;
  }

  private required(): WebhookStore {
    if (!this.store) throw new Error('webhooks need the SQLite or PostgreSQL storage of this server');
    return this.store;
  }

  // ------------------------------------------------------------- the send path

  screen(caller: Caller, input: SendInput): Promise<SendInput> | null {
    if (!this.beforeSend) return null;
    const known = this.cache.peek(caller.appId);
    if (known === null || (known && !known.events.includes('beforeSend'))) return null;
    const check = this.beforeSend;
    if (known) return check.screen(known, caller, input);
    return this.cache.get(caller.appId).then(
      (c) => (c && c.events.includes('beforeSend') ? check.screen(c, caller, input) : input),
      (err: unknown) => {
        // The configuration cannot be read: as if the backend did not answer, which fails open
        // unless we know better; a stored 'refuse' policy is unknown here, so let it through.
        this.log('warn', 'reading the webhook configuration failed; the send goes through unchecked', err);
        return input;
      },
    );
  }

  /** The beforeSend check of an edit (content and data as the edit would store them); null: none. */
  screenEdit(caller: Caller, target: StoredMessage, content: string, data: unknown): Promise<{ content: string; data: unknown }> | null {
    if (!this.beforeSend) return null;
    const known = this.cache.peek(caller.appId);
    if (known === null || (known && !known.events.includes('beforeSend'))) return null;
    const check = this.beforeSend;
    if (known) return check.screenEdit(known, caller, target, content, data);
    return this.cache.get(caller.appId).then(
      (c) => (c && c.events.includes('beforeSend') ? check.screenEdit(c, caller, target, content, data) : { content, data }),
      (err: unknown) => {
        this.log('warn', 'reading the webhook configuration failed; the edit goes through unchecked', err);
        return { content, data };
      },
    );
  }

  /**
   * The afterSend events of a group commit, for its own transaction (the transactional outbox): a
   * message is stored with its event or not at all, so a crash right after the commit loses none.
   * Undefined when no app of the batch wants afterSend. A configuration that cannot be read means
   * no event for that app's messages (logged); the sends themselves go on.
   */
  async afterSendOutbox(requests: readonly SendRequest[], unfinished: (m: StoredMessage) => boolean, asStored: (m: StoredMessage) => StoredMessage): Promise<AfterSendBatch | undefined> {
    if (!this.store || !requests.length) return undefined;
    const wanted = new Set<string>();
    for (const appId of new Set(requests.map((r) => r.appId))) {
      const known = this.cache.peek(appId);
      if (known === null) continue;
      try {
        const config = known ?? (await this.cache.get(appId));
        if (config?.events.includes('afterSend')) wanted.add(appId);
      } catch (err) {
        this.log('error', `reading the webhook configuration of app ${appId} failed; its messages of this commit have no afterSend`, err);
      }
    }
    if (!wanted.size) return undefined;
    const batch: AfterSendBatch = { held: new Map(), due: 0, outbox: () => undefined };
    batch.outbox = (item, result) => {
      if (!wanted.has(item.appId)) return undefined;
      const hold = unfinished(result.message);
      const e = this.event(item.appId, 'afterSend', { message: hold ? asStored(result.message) : result.message });
      if (!this.admit(e)) return undefined;
      if (!hold) {
        batch.due++;
        return { ...e, nextAt: e.createdAt };
      }
      const heldUntil = e.createdAt + (this.settings.afterSendHoldMs ?? AFTER_SEND_HOLD_MS);
      batch.held.set(result.message.messageId, { id: e.id, appId: e.appId, createdAt: e.createdAt, heldUntil });
      return { ...e, nextAt: heldUntil };
    };
    return batch;
  }

  /**
   * After the commit: the held events get the messages as the acks carry them, and are due at
   * once. Never throws: the messages and their events are stored; an event not completed here goes
   * out when its hold ends.
   */
  async committed(batch: AfterSendBatch, outcomes: readonly SendOutcome[]): Promise<void> {
    if (!this.store) return;
    const store = this.store;
    const releases: Array<Promise<void>> = [];
    for (const o of outcomes) {
      const h = o.result && batch.held.get(o.result.message.messageId);
      if (!h) continue;
      const body = JSON.stringify({ id: h.id, event: 'afterSend', appId: h.appId, createdAt: h.createdAt, data: { message: o.result!.message } });
      releases.push(store.release(h.id, body, h.heldUntil, Date.now()));
    }
    const failed = (await Promise.allSettled(releases)).find((r) => r.status === 'rejected');
    if (failed) this.log('error', 'completing afterSend webhooks failed; they go out with the messages as stored when their hold ends', (failed as PromiseRejectedResult).reason);
    if (batch.due || releases.length) this.dispatcher?.wake();
  }

  // ------------------------------------------------------------- other events

  /** A presence transition (decided once for the cluster by the presence tracker). */
  presence(appId: string, info: PresenceInfo): void {
    this.track(this.queueIfWanted(appId, info.online ? 'userOnline' : 'userOffline', { userId: info.userId, online: info.online, lastSeenAt: info.lastSeenAt }));
  }

  groupChanged(appId: string, change: GroupChangeEvent): void {
    this.track(this.queueIfWanted(appId, 'groupChanged', { change }));
  }

  private track(p: Promise<void>): void {
    this.queueing.add(p);
    void p.finally(() => this.queueing.delete(p));
  }

  private async queueIfWanted(appId: string, event: QueuedEventName, data: unknown): Promise<void> {
    if (!this.store) return;
    try {
      const known = this.cache.peek(appId);
      if (known === null) return;
      const config = known ?? (await this.cache.get(appId));
      if (config?.events.includes(event)) await this.enqueue([this.event(appId, event, data)]);
    } catch (err) {
      this.log('error', `queueing a ${event} webhook failed`, err);
    }
  }

  private event(appId: string, event: QueuedEventName, data: unknown): NewQueuedEvent {
    const id = randomUUID();
    const createdAt = Date.now();
    return { id, appId, event, createdAt, body: JSON.stringify({ id, event, appId, createdAt, data }) };
  }

  /** Into the queue, within each app's cap of waiting events; the dispatcher is woken. */
  private async enqueue(events: NewQueuedEvent[]): Promise<void> {
    if (!events.length || !this.store) return;
    const kept = events.filter((e) => this.admit(e));
    if (!kept.length) return;
    await this.store.enqueue(kept);
    this.dispatcher?.wake();
  }

  /** Whether the event fits within its app's cap of waiting events (counted in when it does). */
  private admit(e: NewQueuedEvent): boolean {
    const max = this.settings.maxPendingPerApp ?? 100_000;
    const now = Date.now();
    let p = this.pending.get(e.appId);
    if (!p) {
      p = { n: 0, at: 0, warnedAt: 0 };
      this.pending.set(e.appId, p);
    }
    if (now - p.at > PENDING_RECOUNT_MS) {
      p.at = now;
      const entry = p;
      this.store!.pendingCount(e.appId).then(
        (n) => void (entry.n = n),
        () => undefined,
      );
    }
    if (p.n >= max) {
      if (now - p.warnedAt > 60_000) {
        p.warnedAt = now;
        this.log('warn', `app ${e.appId} has ${p.n} webhook events waiting (its backend is not taking them); new ones are dropped until it catches up`);
      }
      this.record(e.event, 'dropped');
      return false;
    }
    p.n++;
    return true;
  }

  private record(event: string, outcome: string): void {
    try {
      this.metrics?.webhookCall(event, outcome);
    } catch {
      // Metrics never break delivery.
    }
  }
}
