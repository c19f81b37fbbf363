import type { QueuedEvent, QueuedEventName, WebhookConfig } from './types';

/** An event to put in the queue. */
export interface NewQueuedEvent {
  id: string;
  appId: string;
  event: QueuedEventName;
  body: string;
  createdAt: number;
}

/**
 * Where webhook configurations and the durable delivery queue live: the server's own database
 * (SQLite or PostgreSQL), tables of migration 8 (SQLite) / 7 (PostgreSQL).
 */
export interface WebhookStore {
  getConfig(appId: string): Promise<WebhookConfig | undefined>;
  putConfig(config: WebhookConfig): Promise<void>;
  /** Removes the configuration and the app's pending events; false when there was none. */
  deleteConfig(appId: string): Promise<boolean>;
  enqueue(events: NewQueuedEvent[]): Promise<void>;
  /**
   * Takes up to `limit` due events (next attempt at or before `now`) of apps other than `skipApps`
   * for delivery: each is hidden from other claims until `leaseUntil`, so a node that dies
   * mid-delivery leaves it to be retried.
   */
  claim(now: number, limit: number, leaseUntil: number, skipApps?: readonly string[]): Promise<QueuedEvent[]>;
  /**
   * Completes an event written held back (until `heldUntil`) with its message's transaction: its
   * final body, due at `nextAt`. Nothing happens when a claim has already taken it (the hold ran
   * out first), so an event never changes under a delivery.
   */
  release(id: string, body: string, heldUntil: number, nextAt: number): Promise<void>;
  /** Delivered (or given up on): gone from the queue. */
  remove(id: string): Promise<void>;
  /** The next attempt at `nextAt`, after `attempts` failures so far. */
  retryAt(id: string, attempts: number, nextAt: number, lastError: string): Promise<void>;
  pendingCount(appId: string): Promise<number>;
  /** A beforeSend replacement: the digest of what the client sent, so its retries are recognised. */
  recordReplacement(appId: string, userId: string, clientMsgId: string, digest: string, at: number): Promise<void>;
  replacementDigest(appId: string, userId: string, clientMsgId: string): Promise<string | undefined>;
  pruneReplacements(before: number): Promise<void>;
}

export interface ConfigRow {
  app_id: string;
  url: string;
  secret: string;
  events: string;
  before_timeout_ms: number;
  before_on_timeout: string;
  updated_at: number;
}

export interface EventRow {
  id: string;
  app_id: string;
  event: string;
  body: string;
  attempts: number;
  created_at: number;
}

export function toConfig(r: ConfigRow): WebhookConfig {
  return {
    appId: r.app_id,
    url: r.url,
    secret: r.secret,
    events: JSON.parse(r.events) as WebhookConfig['events'],
    beforeSend: { timeoutMs: Number(r.before_timeout_ms), onTimeout: r.before_on_timeout === 'refuse' ? 'refuse' : 'allow' },
    updatedAt: Number(r.updated_at),
  };
}

export function toEvent(r: EventRow): QueuedEvent {
  return { id: r.id, appId: r.app_id, event: r.event as QueuedEventName, body: r.body, attempts: Number(r.attempts), createdAt: Number(r.created_at) };
}

/** Error texts kept with a failed event (for whoever reads the table), bounded. */
export function clip(text: string, max = 500): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
