import { ChatType, SocketEvent, type ChatTypeValue } from '../core/protocol';
import { requireData, requireId, requireObject } from '../core/validate';
import type { Feature, FeatureContext } from './feature';

/** A typing notice per conversation at most this often (the server allows one a second). */
const TYPING_EVERY_MS = 3_000;

export interface TypingNotice {
  from: string;
  chatType: ChatTypeValue;
  to: string;
}

export interface Signal {
  from: string;
  chatType: ChatTypeValue;
  to: string;
  data: unknown;
  timestamp: number;
}

/** "typing…" and signals (call invites and the like): online only, never stored, never caught up. */
export class Signals implements Feature {
  readonly name = 'signals';
  private readonly typedAt = new Map<string, number>();

  constructor(private readonly fc: FeatureContext) {
    fc.route(SocketEvent.TYPING, (t: TypingNotice) => fc.ctx.events.emit('typing', t));
    fc.route(SocketEvent.SIGNAL, (s: Signal) => fc.ctx.events.emit('signal', s));
  }

  /** True when a notice went out; false when one went in the last 3 s, or not connected. */
  typing(params: unknown): boolean {
    const m = 'sendTyping';
    const to = requireId(m, 'recipientId', requireObject(m, params, '{ recipientId }').recipientId);
    const now = Date.now();
    if (now - (this.typedAt.get(to) ?? 0) < TYPING_EVERY_MS) return false;
    if (!this.fc.rpc.notify(SocketEvent.TYPING_SEND, { to })) return false;
    this.typedAt.set(to, now);
    return true;
  }

  /** Resolves once the server has passed it on to whoever of the recipients is online. */
  async signal(params: unknown, chatType: ChatTypeValue): Promise<void> {
    const m = 'sendSignal';
    const p = requireObject(m, params, '{ recipientId | groupId, data }');
    const to = requireId(m, chatType === ChatType.GROUP ? 'groupId' : 'recipientId', chatType === ChatType.GROUP ? p.groupId : p.recipientId);
    await this.fc.rpc.request(SocketEvent.SIGNAL_SEND, { chatType, to, data: requireData(m, p.data) }, m);
  }

  onConnectionLost(): void {
    // A new connection may type at once: the server's gap is per socket.
    this.typedAt.clear();
  }
}
