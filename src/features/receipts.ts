import { ReceiptStatus, SocketEvent, ChatType, type ImMessage, type ImReceipt } from '../core/protocol';
import { describe, invalid, requireId } from '../core/validate';
import type { Feature, FeatureContext } from './feature';

/**
 * Automatic delivery receipts wait this long and go out together (`receipts`, up to 100 ids): one
 * packet per burst or sync page instead of one per message, so the receiving device and the
 * server do a fraction of the work, and none of it sits between an arriving message and the app.
 * A delivered tick shown 50 ms later is not noticeable.
 */
const DELIVERY_RECEIPT_DELAY_MS = 50;
const RECEIPTS_PER_PACKET = 100;

/** Delivered and read receipts, both ways. */
export class Receipts implements Feature {
  readonly name = 'receipts';
  private delivered: string[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly fc: FeatureContext) {
    fc.route(SocketEvent.RECEIPT, (r: ImReceipt) => fc.ctx.events.emit('receipt', r));
  }

  /** Tells the sender their message was read. False when not connected (nothing is sent). */
  sendRead(messageId: unknown, toUserId: unknown): boolean {
    if (typeof messageId !== 'string' || !messageId || messageId.length > 64) {
      throw invalid('sendReadReceipt', `messageId must be the messageId of a received message, got ${describe(messageId)}.`);
    }
    const payload: Record<string, unknown> = { messageId, status: ReceiptStatus.READ };
    if (toUserId !== undefined && toUserId !== null) payload.to = requireId('sendReadReceipt', 'toUserId', toUserId);
    // Read implies delivered: a delivered receipt still waiting would reach the sender after this
    // one and turn "read" back into "delivered".
    const waiting = this.delivered.indexOf(messageId);
    if (waiting >= 0) this.delivered.splice(waiting, 1);
    return this.fc.rpc.notify(SocketEvent.RECEIPT, payload, (res: { code?: number; message?: string } | undefined) => {
      if (res && res.code !== 0) this.fc.ctx.log.debug(`receipt for ${messageId} refused: ${res.message}`);
    });
  }

  onMessage(m: ImMessage): void {
    const me = this.fc.session()?.userId;
    if (!this.fc.ctx.opts.autoDeliveryReceipt || m.chatType !== ChatType.PRIVATE || !me || m.from === me) return;
    this.delivered.push(m.messageId);
    if (this.delivered.length >= RECEIPTS_PER_PACKET) this.flush();
    else if (this.timer === undefined) this.timer = setTimeout(() => this.flush(), DELIVERY_RECEIPT_DELAY_MS);
  }

  /**
   * Receipts are live only (protocol 6.7): ids gathered while the connection drops are not kept,
   * as a single receipt would not have been sent either.
   */
  onConnectionLost(): void {
    this.delivered.length = 0;
    this.clearTimer();
  }

  dispose(): void {
    this.onConnectionLost();
  }

  private flush(): void {
    this.clearTimer();
    const ids = this.delivered.splice(0);
    if (!ids.length) return;
    const log = this.fc.ctx.log;
    this.fc.rpc.notify(
      SocketEvent.RECEIPTS,
      { messageIds: ids, status: ReceiptStatus.DELIVERED },
      (res: { code?: number; message?: string; data?: { refused?: Array<{ messageId: string; message: string }> } } | undefined) => {
        if (res && res.code !== 0) log.debug(`delivery receipts refused: ${res.message}`);
        for (const r of res?.data?.refused ?? []) log.debug(`delivery receipt for ${r.messageId} refused: ${r.message}`);
      },
    );
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
