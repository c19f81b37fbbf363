import type { Server, Socket } from 'socket.io';
import type { ValidateFunction } from 'ajv';
import { ApiError, Code } from '../errors';
import type { Caller, ImService } from '../service';
import { checkData } from '../service';
import type { RateBucket } from './user-limits';

/** One "typing" per conversation per second from one socket; the SDK sends one per 3 s. */
const TYPING_GAP_MS = 1_000;
/** Typing targets remembered per socket (beyond it the oldest are forgotten). */
const TYPING_TARGETS_MAX = 200;
/** A group signal costs one token more per this many members it reaches (like fan-out). */
const MEMBERS_PER_TOKEN = 100;

type Handle = <T>(socket: Socket, event: string, validate: ValidateFunction<T>, work: (payload: T) => unknown) => void;

export interface VolatileContext {
  io: Server;
  service: ImService;
  handle: Handle;
  room(appId: string, userId: string): string;
  state(socket: Socket): Caller & { bucket: RateBucket };
  validators: { typing: ValidateFunction<{ to: string }>; signal: ValidateFunction<{ chatType: 0 | 1; to: string; data: unknown }> };
}

/**
 * Typing and signals: emitted to online sockets only (volatile: never queued for a socket that
 * is not writable), never stored, never caught up; across nodes through the adapter.
 */
export function handleVolatile(ctx: VolatileContext, socket: Socket): void {
  const lastTyping = new Map<string, number>();
  ctx.handle(socket, 'chat:typing', ctx.validators.typing, (p) => {
    const s = ctx.state(socket);
    const now = Date.now();
    if (now - (lastTyping.get(p.to) ?? 0) < TYPING_GAP_MS) throw new ApiError(Code.RATE_LIMITED, `rate limited: one typing notice per conversation per ${TYPING_GAP_MS} ms`);
    lastTyping.delete(p.to);
    lastTyping.set(p.to, now);
    if (lastTyping.size > TYPING_TARGETS_MAX) lastTyping.delete(lastTyping.keys().next().value!);
    // No lookup: a notice to someone who does not exist reaches no one.
    if (p.to !== s.userId) ctx.io.to(ctx.room(s.appId, p.to)).volatile.emit('typing', { from: s.userId, chatType: 0, to: p.to });
    return null;
  });
  ctx.handle(socket, 'chat:signal', ctx.validators.signal, async (p) => {
    const s = ctx.state(socket);
    const data = checkData(p.data);
    const recipients = await ctx.service.signalRecipients(s, p.chatType, p.to);
    const extra = Math.floor(recipients.length / MEMBERS_PER_TOKEN);
    const wait = extra > 0 ? await s.bucket.take(extra) : 0;
    if (wait > 0) throw new ApiError(Code.RATE_LIMITED, `rate limited: a signal to ${recipients.length} members counts as ${extra + 1} events; retry after ${wait} ms`);
    if (recipients.length) ctx.io.to(recipients.map((id) => ctx.room(s.appId, id))).volatile.emit('signal', { from: s.userId, chatType: p.chatType, to: p.to, data, timestamp: Date.now() });
    return { recipients: recipients.length };
  });
}
