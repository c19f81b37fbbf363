import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * What the server's layers report (gateway, service, storage, HTTP, webhooks). They see only this
 * interface, never prom-client, and default to NO_METRICS, so a layer built without a server (unit
 * tests, benchmarks) reports nothing at no cost.
 */
export interface Metrics {
  socketOpened(): void;
  socketClosed(): void;
  /** A message newly stored by a send (not a retried clientMsgId). */
  messageStored(chatType: 0 | 1): void;
  /** `emits` packets of a stored message sent to recipient rooms. */
  delivered(emits: number): void;
  /** Seconds from a chat:send entering the batch queue to its ack. */
  sendAcked(seconds: number): void;
  /** Messages in one catch-up reply. */
  syncReply(event: 'chat:sync' | 'chat:group-sync', messages: number): void;
  rateLimited(kind: RateLimitKind): void;
  /** A database failure (not a constraint conflict, which is the storage's answer to a race). */
  storageError(kind: 'retryable' | 'fatal'): void;
  /** A webhook delivery attempt: `event` as configured, `outcome` such as ok, error, timeout. */
  webhookCall(event: string, outcome: string): void;
}

/** socket: events (and connections over the per-user cap); http: API requests; upload: POST /api/files. */
export type RateLimitKind = 'socket' | 'http' | 'upload';

const noop = (): void => undefined;
export const NO_METRICS: Metrics = {
  socketOpened: noop,
  socketClosed: noop,
  messageStored: noop,
  delivered: noop,
  sendAcked: noop,
  syncReply: noop,
  rateLimited: noop,
  storageError: noop,
  webhookCall: noop,
};

/** 0.1 ms to 1 s: an in-memory ack is a fraction of a millisecond, a stalled commit a second. */
const ACK_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** Messages per catch-up reply, up to LIMITS.SYNC_MAX (500). */
const SYNC_BUCKETS = [0, 1, 5, 10, 25, 50, 100, 200, 500];
/** The moving window of messagesPerSec, in one-second samples. */
const RATE_WINDOW_S = 10;
/** Distinct webhook label pairs kept: the labels come from configuration, but stay bounded anyway. */
const WEBHOOK_SERIES_MAX = 200;

/**
 * Node.js process figures (event-loop lag, heap, GC, CPU), collected once per process: they are the
 * process's, whatever number of servers run in it (tests run many), and each collection keeps an
 * event-loop monitor and a GC observer running for good.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'im_' });
  }
  return processRegistry;
}

function labelValue(s: string): string {
  return /^[A-Za-z0-9_.:-]{1,64}$/.test(s) ? s : 'other';
}

/**
 * The metrics of one server (its own Registry: several servers run in one test process), rendered
 * in the Prometheus text format with every series labelled `node`. The busiest figures (messages
 * stored and delivered) are plain numbers on the send path, handed to prom-client when scraped.
 */
export class ServerMetrics implements Metrics {
  readonly registry = new Registry();
  readonly startedAt = Date.now();
  private readonly stored = [0, 0];
  private readonly reported = [0, 0];
  private deliveredTotal = 0;
  private deliveredReported = 0;
  private connections = 0;
  private readonly samples: Array<{ at: number; total: number }> = [];
  private readonly sampler: ReturnType<typeof setInterval>;
  private readonly sockets: Gauge;
  private readonly ackLatency: Histogram;
  private readonly syncSizes: Histogram<'event'>;
  private readonly refusals: Counter<'kind'>;
  private readonly storageErrors: Counter<'kind'>;
  private readonly webhooks: Counter<'event' | 'outcome'>;
  private readonly webhookSeries = new Set<string>();

  constructor(readonly nodeId: string) {
    const registers = [this.registry];
    const self = this;
    this.sockets = new Gauge({ name: 'im_sockets_connected', help: 'Socket.IO connections open on this node', registers });
    new Counter({
      name: 'im_messages_stored_total',
      help: 'Messages stored by sends on this node, by chatType (0 private, 1 group)',
      labelNames: ['chatType'],
      registers,
      collect() {
        for (const t of [0, 1] as const) {
          this.inc({ chatType: String(t) }, self.stored[t]! - self.reported[t]!);
          self.reported[t] = self.stored[t]!;
        }
      },
    });
    new Counter({
      name: 'im_messages_delivered_total',
      help: 'Packets of stored messages emitted to recipient rooms (one per online recipient; with Redis one per member room)',
      registers,
      collect() {
        this.inc(self.deliveredTotal - self.deliveredReported);
        self.deliveredReported = self.deliveredTotal;
      },
    });
    this.ackLatency = new Histogram({ name: 'im_send_ack_seconds', help: 'chat:send from entering the batch queue to its ack (stored and committed)', buckets: ACK_BUCKETS, registers });
    this.syncSizes = new Histogram({ name: 'im_sync_reply_messages', help: 'Messages per catch-up reply', labelNames: ['event'], buckets: SYNC_BUCKETS, registers });
    this.refusals = new Counter({ name: 'im_rate_limited_total', help: 'Requests refused by a rate limit, by kind (socket, http, upload)', labelNames: ['kind'], registers });
    this.storageErrors = new Counter({ name: 'im_storage_errors_total', help: 'Database failures (constraint conflicts excluded), by kind (retryable, fatal)', labelNames: ['kind'], registers });
    this.webhooks = new Counter({ name: 'im_webhook_calls_total', help: 'Webhook deliveries, by event and outcome', labelNames: ['event', 'outcome'], registers });
    // The series exist from the start, so a rate() over them has a zero to begin from.
    for (const kind of ['socket', 'http', 'upload']) this.refusals.inc({ kind }, 0);
    for (const kind of ['retryable', 'fatal']) this.storageErrors.inc({ kind }, 0);
    for (const event of ['chat:sync', 'chat:group-sync']) this.syncSizes.zero({ event });
    this.sampler = setInterval(() => this.sample(), 1000);
    this.sampler.unref();
  }

  socketOpened(): void {
    this.connections++;
    this.sockets.set(this.connections);
  }

  socketClosed(): void {
    this.connections = Math.max(0, this.connections - 1);
    this.sockets.set(this.connections);
  }

  messageStored(chatType: 0 | 1): void {
    this.stored[chatType === 1 ? 1 : 0]!++;
  }

  delivered(emits: number): void {
    this.deliveredTotal += emits;
  }

  sendAcked(seconds: number): void {
    this.ackLatency.observe(seconds);
  }

  syncReply(event: 'chat:sync' | 'chat:group-sync', messages: number): void {
    this.syncSizes.observe({ event }, messages);
  }

  rateLimited(kind: RateLimitKind): void {
    this.refusals.inc({ kind });
  }

  storageError(kind: 'retryable' | 'fatal'): void {
    this.storageErrors.inc({ kind });
  }

  webhookCall(event: string, outcome: string): void {
    const labels = { event: labelValue(event), outcome: labelValue(outcome) };
    const key = `${labels.event}\n${labels.outcome}`;
    if (!this.webhookSeries.has(key)) {
      if (this.webhookSeries.size >= WEBHOOK_SERIES_MAX) labels.event = 'other';
      else this.webhookSeries.add(key);
    }
    this.webhooks.inc(labels);
  }

  /** Sockets open on this node now. */
  get socketCount(): number {
    return this.connections;
  }

  /** Messages stored on this node since it started. */
  get messagesStored(): number {
    return this.stored[0]! + this.stored[1]!;
  }

  /** Messages stored per second over the last 10 s (less just after start). */
  messagesPerSec(): number {
    const now = performance.now();
    const oldest = this.samples[0] ?? { at: now - (Date.now() - this.startedAt), total: 0 };
    const span = (now - oldest.at) / 1000;
    if (span <= 0) return 0;
    return Math.round(((this.messagesStored - oldest.total) / span) * 100) / 100;
  }

  private sample(): void {
    this.samples.push({ at: performance.now(), total: this.messagesStored });
    if (this.samples.length > RATE_WINDOW_S) this.samples.shift();
  }

  /** The Prometheus text exposition, this server's series and the process's, labelled with the node. */
  async render(): Promise<string> {
    const merged = Registry.merge([this.registry, processMetrics()]);
    merged.setDefaultLabels({ node: this.nodeId });
    return merged.metrics();
  }

  readonly contentType = Registry.PROMETHEUS_CONTENT_TYPE;

  close(): void {
    clearInterval(this.sampler);
  }
}
