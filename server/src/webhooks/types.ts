/** The events an app's backend can subscribe to (docs/webhooks.md). */
export const WEBHOOK_EVENTS = ['beforeSend', 'afterSend', 'userOnline', 'userOffline', 'groupChanged'] as const;
export type WebhookEventName = (typeof WEBHOOK_EVENTS)[number];
/** The events delivered through the durable queue (all but beforeSend, which is a synchronous call). */
export type QueuedEventName = Exclude<WebhookEventName, 'beforeSend'>;

export interface BeforeSendPolicy {
  /** ms the backend has to answer a beforeSend call (100-10,000). */
  timeoutMs: number;
  /** What a timeout, a non-2xx or a malformed answer means: let the message through, or refuse it. */
  onTimeout: 'allow' | 'refuse';
}

/** One app's webhook configuration, as stored. */
export interface WebhookConfig {
  appId: string;
  url: string;
  secret: string;
  events: WebhookEventName[];
  beforeSend: BeforeSendPolicy;
  updatedAt: number;
}

/** An event waiting in the queue (or claimed for delivery). */
export interface QueuedEvent {
  id: string;
  appId: string;
  event: QueuedEventName;
  /** The JSON body sent, fixed at enqueue time so every retry sends the same bytes. */
  body: string;
  /** Failed deliveries so far. */
  attempts: number;
  createdAt: number;
}

export const DEFAULT_BEFORE_SEND: BeforeSendPolicy = { timeoutMs: 2000, onTimeout: 'allow' };
export const URL_MAX = 2000;
export const SECRET_MIN = 16;
export const SECRET_MAX = 256;
