import { ImError } from '../core/errors';
import type { ImMessage } from '../core/protocol';

export interface SendPayload {
  clientMsgId: string;
  chatType: 0 | 1;
  to: string;
  content: string;
  msgType: number;
  data: unknown;
  /** The messageId this one replies to (same conversation). */
  replyTo?: string;
  mentions?: string[] | 'all';
}

/** What survives an app restart: enough to resend with the same id. */
export interface StoredSend {
  payload: SendPayload;
  createdAt: number;
}

interface Waiter {
  resolve: (m: ImMessage) => void;
  reject: (e: ImError) => void;
}

interface Entry {
  payload: SendPayload;
  createdAt: number;
  /** Who awaits the answer: the send, and any retry with the same clientMsgId while it is pending. */
  waiters: Waiter[];
  /** E_TIMEOUT for a send never emitted; none for sends restored from an earlier run. */
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Emitted at least once: the server may have stored it, so only its answer may settle it. */
  emitted: boolean;
  /** Emitted on the current connection and waiting for its ack. */
  inflight: boolean;
}

export type Emit = (payload: SendPayload, onAck: (err: ImError | null, message?: ImMessage) => void) => void;

/**
 * Sends survive disconnects: a message waits here until the server acknowledges it. On every
 * connection the whole queue is re-emitted in order with the same clientMsgId; the server's
 * idempotency turns a resend of something it already stored into the original answer.
 *
 * Settling rules (docs/reliability.md): a message never emitted rejects with E_TIMEOUT after
 * `sendTimeout` and is dropped, so it can never arrive later. Once emitted it settles only on the
 * server's answer, or with E_SEND_UNCERTAIN when the client gives up the connection for good.
 */
export class Outbox {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly timeoutMs: () => number,
    /**
     * Called whenever the set of pending messages changes (to persist it). `urgent` when a message
     * left rejected: the promise says it was not (or may not be) stored, so a copy left on storage
     * must not be resent by the next run of the app.
     */
    private readonly onChange: (urgent: boolean) => void = () => undefined,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  has(clientMsgId: string): boolean {
    return this.entries.has(clientMsgId);
  }

  /**
   * Queues a send. A clientMsgId already pending (a retry of a send still on its way) joins that
   * send and settles with its answer: one message, however often it is retried.
   */
  enqueue(payload: SendPayload): Promise<ImMessage> {
    const existing = this.entries.get(payload.clientMsgId);
    if (existing) return new Promise<ImMessage>((resolve, reject) => existing.waiters.push({ resolve, reject }));
    const promise = new Promise<ImMessage>((resolve, reject) => {
      const timer = setTimeout(() => this.expire(payload.clientMsgId), this.timeoutMs());
      this.entries.set(payload.clientMsgId, { payload, createdAt: Date.now(), waiters: [{ resolve, reject }], timer, emitted: false, inflight: false });
    });
    this.onChange(false);
    return promise;
  }

  /** Pending sends to persist. */
  snapshot(): StoredSend[] {
    return [...this.entries.values()].map((e) => ({ payload: e.payload, createdAt: e.createdAt }));
  }

  /**
   * Re-queues sends persisted by an earlier run of the app (which may have been killed before the
   * server answered). Nobody awaits them any more; they are treated as possibly emitted, so they
   * are resent with the same id until the server answers and never dropped by the timeout.
   */
  restore(items: StoredSend[]): void {
    // What an earlier run left goes before this run's sends: it was sent first.
    const current = [...this.entries];
    this.entries.clear();
    for (const item of items) {
      if (!item?.payload?.clientMsgId || current.some(([id]) => id === item.payload.clientMsgId)) continue;
      this.entries.set(item.payload.clientMsgId, { payload: item.payload, createdAt: item.createdAt, waiters: [], timer: undefined, emitted: true, inflight: false });
    }
    for (const [id, entry] of current) this.entries.set(id, entry);
    this.onChange(false);
  }

  /** Emits everything not already waiting for an ack on this connection, oldest first. */
  flush(emit: Emit): void {
    for (const entry of this.entries.values()) {
      if (entry.inflight) continue;
      entry.emitted = true;
      entry.inflight = true;
      emit(entry.payload, (err, message) => this.answer(entry.payload.clientMsgId, err, message));
    }
  }

  /** The connection dropped: acks for emitted messages will not come on it. */
  connectionLost(): void {
    for (const entry of this.entries.values()) entry.inflight = false;
  }

  /** The server's answer: from a chat:send ack, or the sender's own message seen in a sync. */
  answer(clientMsgId: string, err: ImError | null, message?: ImMessage): void {
    const entry = this.entries.get(clientMsgId);
    if (!entry) return;
    if (err && err.serverCode === 50300) {
      // The server is shutting down and did not process it: resend on the next connection.
      entry.inflight = false;
      return;
    }
    this.settle(clientMsgId, !!err);
    for (const w of entry.waiters) {
      if (err) w.reject(new ImError(err.code, err.message, { cause: err.cause, serverCode: err.serverCode, clientMsgId }));
      else w.resolve(message as ImMessage);
    }
  }

  /** Gives up on everything: unsent messages fail with `code`, emitted ones as uncertain. */
  failAll(code: 'E_NOT_CONNECTED' | 'E_KICKED' | 'E_DESTROYED' | 'E_NETWORK' | 'E_TOKEN_EXPIRED', reason: string): void {
    for (const [id, entry] of [...this.entries]) {
      this.settle(id, true);
      const error = entry.emitted
        ? new ImError(
            'E_SEND_UNCERTAIN',
            `${reason} before the server confirmed message ${id}; it may or may not have been stored. ` +
              'Resend it with the same clientMsgId (the server answers with the stored message if it has it), or check the conversation history.',
            { clientMsgId: id },
          )
        : new ImError(code, `${reason}; message ${id} was not sent.`, { clientMsgId: id });
      for (const w of entry.waiters) w.reject(error);
    }
  }

  private expire(clientMsgId: string): void {
    const entry = this.entries.get(clientMsgId);
    if (!entry || entry.emitted) return;
    this.settle(clientMsgId, true);
    const error = new ImError(
      'E_TIMEOUT',
      `Message ${clientMsgId} could not be sent within ${this.timeoutMs()} ms (no connection); it was dropped and will not be sent later.`,
      { clientMsgId },
    );
    for (const w of entry.waiters) w.reject(error);
  }

  private settle(clientMsgId: string, rejected: boolean): void {
    const entry = this.entries.get(clientMsgId);
    if (!entry) return;
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    this.entries.delete(clientMsgId);
    this.onChange(rejected);
  }
}
