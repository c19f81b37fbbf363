import { nanoid } from 'nanoid/non-secure';
import type { Connection, EndCode } from '../connection/connection';
import type { ClientContext } from '../core/context';
import { ackHandler } from '../core/envelope';
import { ImError } from '../core/errors';
import { SocketEvent, type ChatTypeValue, type ImMessage } from '../core/protocol';
import type { StorageKeys } from '../core/storage-keys';
import { describe, invalid, optionalInt, requireClientMsgId, requireContent, requireData, requireId, requireObject } from '../core/validate';
import { Outbox, type SendPayload } from './outbox';
import { OutboxStore } from './outbox-store';

/**
 * The send path: a validated payload goes into the outbox (persisted), is emitted once the session
 * is caught up, and settles on the server's ack or on the sender's own message seen in a sync.
 */
/** `mentions`: group messages only, `'all'` or up to 100 user ids. */
function mentionsOf(method: string, chatType: ChatTypeValue, value: unknown): string[] | 'all' {
  if (chatType !== 1) throw invalid(method, '"mentions" is for group messages.');
  if (value === 'all') return 'all';
  if (!Array.isArray(value) || value.length > 100) throw invalid(method, `"mentions" must be 'all' or an array of at most 100 user ids, got ${describe(value)}.`);
  return value.map((id) => requireId(method, 'mentions[]', id));
}

export class Messenger {
  private readonly outbox: Outbox;
  private readonly store: OutboxStore;

  constructor(
    ctx: ClientContext,
    private readonly conn: Connection,
    keys: StorageKeys,
    private readonly isReady: () => boolean,
    /** The server stored one of our sends: its inbox position is passed. */
    private readonly onAcked: (message: ImMessage) => void,
    /** A message as the app gets it (media URLs made absolute). */
    private readonly present: (message: ImMessage) => ImMessage = (m) => m,
  ) {
    this.outbox = new Outbox(
      () => ctx.opts.sendTimeout,
      (urgent) => (urgent ? this.store.persistNow() : this.store.persistSoon()),
    );
    this.store = new OutboxStore(ctx, keys, this.outbox, () => conn.active);
  }

  send(method: string, chatType: ChatTypeValue, params: unknown, targetField: string): Promise<ImMessage> {
    const p = requireObject(method, params, `{ content, ${targetField} }`);
    const msgType = optionalInt(method, 'msgType', p.msgType, 0, 1000) ?? 0;
    const payload: SendPayload = {
      // A caller's own id makes a retry idempotent: the server answers it with the stored message.
      clientMsgId: p.clientMsgId === undefined ? `${Date.now().toString(36)}-${nanoid(12)}` : requireClientMsgId(method, p.clientMsgId),
      chatType,
      to: requireId(method, targetField, p[targetField]),
      content: requireContent(method, p.content, msgType),
      msgType,
      data: requireData(method, p.data),
    };
    if (p.replyTo !== undefined) {
      if (typeof p.replyTo !== 'string' || !p.replyTo || p.replyTo.length > 64) throw invalid(method, `"replyTo" must be the messageId of a message in this conversation, got ${describe(p.replyTo)}.`);
      payload.replyTo = p.replyTo;
    }
    if (p.mentions !== undefined) payload.mentions = mentionsOf(method, chatType, p.mentions);
    this.assertCanSend(method);
    const result = this.outbox.enqueue(payload);
    if (this.isReady()) this.emitPending();
    return result;
  }

  /** A send needs a connection that is up or coming back (connect() was called and not undone). */
  assertCanSend(method: string): void {
    if (!this.conn.active) {
      throw new ImError('E_NOT_CONNECTED', `${method}: not connected. Call connect() first (after getToken()).`);
    }
  }

  /** Emits every pending send not already waiting for its ack on this connection, oldest first. */
  emitPending(): void {
    const rpc = this.conn.rpc;
    if (!rpc.connected) return;
    this.outbox.flush((payload, onAck) => {
      rpc.notify(
        SocketEvent.SEND,
        payload,
        ackHandler<ImMessage>(
          'sendMessage',
          (err, message) => {
            if (err || !message) {
              onAck(err);
              return;
            }
            this.onAcked(message);
            onAck(null, this.present(message));
          },
          { requireData: true },
        ),
      );
    });
  }

  /** True (and settled) when `m` is a send of ours still waiting: its ack was lost with the connection. */
  claim(m: ImMessage, me: string | undefined): boolean {
    if (!me || m.from !== me || !this.outbox.has(m.clientMsgId)) return false;
    this.outbox.answer(m.clientMsgId, null, this.present(m));
    return true;
  }

  /** Sends an earlier run of the app left on storage join the outbox (once per user). */
  restore(): Promise<void> {
    return this.store.restore();
  }

  /** Acks for what was emitted will not come on this connection. */
  connectionLost(): void {
    this.outbox.connectionLost();
  }

  /** The lifecycle ended or reconnection gave up: every pending send settles now. */
  failAll(code: EndCode | 'E_NETWORK', reason: string): void {
    this.outbox.failAll(code, reason);
  }

  /**
   * Persists now what waits for the write delay: on app hide (the app may be killed without
   * another callback) and at the end of the lifecycle (no timer may outlive destroy()).
   */
  persistPending(): void {
    this.store.flush();
  }

  /** The sends waiting for the server, oldest first (what would be persisted). */
  pending(): SendPayload[] {
    return this.outbox.snapshot().map((s) => s.payload);
  }
}
