import { ImError } from '../core/errors';
import { SocketEvent, type ImMessage, type MessageData, type MessageEventRow } from '../core/protocol';
import { invalid, requireContent, requireData, requireObject, describe } from '../core/validate';
import type { Feature, FeatureContext } from './feature';

/** A revoke or edit answers the message as it is now, and the event it sequenced (none for a repeated revoke). */
interface ActionAck {
  message: ImMessage;
  event: MessageEventRow | null;
}

function messageIdOf(method: string, params: unknown, shape: string): { p: Record<string, unknown>; messageId: string } {
  const p = requireObject(method, params, shape);
  const id = p.messageId;
  if (typeof id !== 'string' || !id || id.length > 64) throw invalid(method, `"messageId" must be the messageId of a message, got ${describe(id)}.`);
  return { p, messageId: id };
}

/**
 * Revoke and edit. Both are events of the conversation on the server: every device (the acting
 * one too) hears of them as `messageRevoked` / `messageEdited`, in order with the messages around
 * them, including devices that were offline (catch-up delivers the event rows).
 */
export class MessageActions implements Feature {
  readonly name = 'message-actions';

  constructor(
    private readonly fc: FeatureContext,
    /** This device's own event: its position is passed (as a send's ack does) and every feature told (onEvent). */
    private readonly acceptOwn: (row: MessageEventRow) => void,
    /** Media URLs made absolute. */
    private readonly present: (m: ImMessage) => ImMessage,
  ) {}

  /** An event row (live, caught up, or this device's own, through the features' onEvent): told to the app as what it is. */
  onEvent(row: MessageEventRow): void {
    const t = row.target;
    if (!t) return;
    if (row.event === 'revoke') {
      this.fc.ctx.events.emit('messageRevoked', { messageId: t.messageId, chatType: t.chatType, from: t.from, to: t.to, by: t.revokedBy ?? row.from, revokedAt: t.revokedAt ?? row.timestamp });
    } else if (!t.revoked) {
      // An edit caught up after a later revoke: the revoke event follows; nothing to show here.
      this.fc.ctx.events.emit('messageEdited', this.present(t));
    }
  }

  async revoke(params: unknown): Promise<void> {
    const m = 'revokeMessage';
    const { messageId } = messageIdOf(m, params, '{ messageId }');
    const ack = await this.fc.rpc.request<ActionAck>(SocketEvent.REVOKE, { messageId }, m);
    if (ack?.event) this.acceptOwn(ack.event);
  }

  async edit(params: unknown): Promise<ImMessage> {
    const m = 'editMessage';
    const { p, messageId } = messageIdOf(m, params, '{ messageId, content, data? }');
    // msgType 1: the text rules (size, valid Unicode) here; whether it may be empty is the server's
    // call, which knows the message's type (a caption may be empty, a text may not).
    const payload: { messageId: string; content: string; data?: MessageData } = { messageId, content: requireContent(m, p.content, 1) };
    if (p.data !== undefined) payload.data = requireData(m, p.data) as MessageData;
    const ack = await this.fc.rpc.request<ActionAck>(SocketEvent.EDIT, payload, m);
    if (!ack?.message) throw new ImError('E_SERVER', `${m}: the server's answer has no message.`);
    if (ack.event) this.acceptOwn(ack.event);
    return this.present(ack.message);
  }
}
