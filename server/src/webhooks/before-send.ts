import { createHash, randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { ApiError, Code } from '../errors';
import { hasPoisonedKey } from '../realtime/gateway';
import { checkContent, checkData, type Caller, type SendInput } from '../service';
import { postSigned } from './http-call';
import type { StoredMessage } from '../storage/types';
import type { WebhookStore } from './store';
import type { WebhookConfig } from './types';

/** Characters of the backend's reason a refusal passes on to the sender. */
const REASON_MAX = 200;
/** A beforeSend answer is at most a replacement message: content and data, 32 KB each, and some. */
const ANSWER_MAX_BYTES = 100_000;

export type BeforeSendOutcome = 'allow' | 'refuse' | 'replace' | 'timeout' | 'error' | 'busy';

export interface BeforeSendDeps {
  store: WebhookStore;
  /** The sender's message stored under this clientMsgId already, if any. */
  findSent(appId: string, from: string, clientMsgId: string): Promise<{ content: string; chatType: number; to: string; msgType: number } | undefined>;
  /** Calls in flight per app on this node; past it the app's onTimeout policy applies at once. */
  maxConcurrentPerApp: number;
  /** The connections calls are made on (held to the destination policy). */
  agent: Dispatcher;
  record(outcome: BeforeSendOutcome): void;
  log: (level: 'warn' | 'error', msg: string, err?: unknown) => void;
}

/** What prepareSend compares to tell a retry from a reuse of the id (content, chatType, to, msgType). */
function digestOf(input: SendInput): string {
  return createHash('sha256').update(JSON.stringify([input.chatType, input.to, input.msgType ?? 0, input.content])).digest('base64url');
}

function cap(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : text;
}

type Answer = { action: 'allow' } | { action: 'refuse'; reason: string } | { action: 'replace'; content: string; data?: unknown };

/** The backend's answer, checked; undefined when it is not one of the three forms (or an invalid replacement). */
function parseAnswer(body: string, msgType: number): Answer | undefined {
  let a: unknown;
  try {
    a = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (a === null || typeof a !== 'object' || Array.isArray(a) || hasPoisonedKey(a)) return undefined;
  const o = a as Record<string, unknown>;
  if (o.action === 'allow') return { action: 'allow' };
  if (o.action === 'refuse') return { action: 'refuse', reason: typeof o.reason === 'string' ? o.reason : '' };
  if (o.action !== 'replace' || typeof o.content !== 'string') return undefined;
  try {
    // A replacement is held to a client's rules: it is stored and delivered as if they sent it.
    checkContent(msgType, o.content);
    if (o.data !== undefined) checkData(o.data);
  } catch {
    return undefined;
  }
  return o.data === undefined ? { action: 'replace', content: o.content } : { action: 'replace', content: o.content, data: o.data };
}

/**
 * The beforeSend call: the app's backend sees a send before it is stored and allows, refuses or
 * replaces it. Calls run concurrently, each send waiting only for its own answer.
 */
export class BeforeSend {
  private readonly inflight = new Map<string, number>();

  constructor(private readonly deps: BeforeSendDeps) {}

  async screen(config: WebhookConfig, caller: Caller, input: SendInput): Promise<SendInput> {
    const msgType = input.msgType ?? 0;
    try {
      checkContent(msgType, input.content);
      checkData(input.data);
    } catch {
      // Refused anyway (prepareSend answers why): not worth the backend's time.
      return input;
    }
    const known = await this.retried(caller, input);
    if (known) return known;
    const message = {
      messageId: null,
      clientMsgId: input.clientMsgId,
      from: caller.userId,
      chatType: input.chatType,
      to: input.to,
      msgType,
      content: input.content,
      data: input.data ?? null,
      ...(input.replyTo !== undefined ? { replyTo: input.replyTo } : {}),
      ...(input.mentions !== undefined ? { mentions: input.mentions } : {}),
    };
    const answer = await this.ask(config, caller, message, msgType);
    if (!answer) return input;
    await this.deps.store.recordReplacement(caller.appId, caller.userId, input.clientMsgId, digestOf(input), Date.now()).catch((err: unknown) => this.deps.log('warn', 'recording a beforeSend replacement failed', err));
    return answer.data === undefined ? { ...input, content: answer.content } : { ...input, content: answer.content, data: answer.data };
  }

  /**
   * An edit says something new, so the backend sees it as it sees a send: `messageId` is the
   * edited message's (null for a send), `content` and `data` what the edit would store. The
   * content and data as they are to be stored (maybe the backend's replacement), or REFUSED.
   */
  async screenEdit(config: WebhookConfig, caller: Caller, target: StoredMessage, content: string, data: unknown): Promise<{ content: string; data: unknown }> {
    const message = { messageId: target.messageId, clientMsgId: target.clientMsgId, from: caller.userId, chatType: target.chatType, to: target.to, msgType: target.msgType, content, data: data ?? null };
    const answer = await this.ask(config, caller, message, target.msgType);
    if (!answer) return { content, data };
    return { content: answer.content, data: answer.data === undefined ? data : answer.data };
  }

  /** One call: the replacement, undefined to go ahead as is (allowed, or let through by the policy), or REFUSED. */
  private async ask(config: WebhookConfig, caller: Caller, message: Record<string, unknown>, msgType: number): Promise<Extract<Answer, { action: 'replace' }> | undefined> {
    const running = this.inflight.get(caller.appId) ?? 0;
    if (running >= this.deps.maxConcurrentPerApp) return this.fallback(config, `is busy (${running} checks in flight on this node)`, 'busy');
    this.inflight.set(caller.appId, running + 1);
    let result: Awaited<ReturnType<typeof postSigned>>;
    const id = randomUUID();
    try {
      const body = JSON.stringify({ id, event: 'beforeSend', appId: caller.appId, createdAt: Date.now(), data: { message } });
      result = await postSigned({ url: config.url, secret: config.secret, event: 'beforeSend', id, body, timeoutMs: config.beforeSend.timeoutMs, readBody: ANSWER_MAX_BYTES, dispatcher: this.deps.agent });
    } finally {
      const left = (this.inflight.get(caller.appId) ?? 1) - 1;
      if (left > 0) this.inflight.set(caller.appId, left);
      else this.inflight.delete(caller.appId);
    }
    if (!result.ok) {
      // The sender learns only that the check failed: the network detail (refused, reset, which
      // status) would tell a client about the backend's network; the operator gets it in the log.
      if (result.error !== 'timeout') this.deps.log('warn', `beforeSend webhook of app ${caller.appId} failed: ${result.error ?? 'no answer'}`);
      const why = result.error === 'timeout' ? `did not answer within ${config.beforeSend.timeoutMs} ms` : 'did not give a usable answer';
      return this.fallback(config, why, result.error === 'timeout' ? 'timeout' : 'error');
    }
    const answer = parseAnswer(result.body ?? '', msgType);
    if (!answer) return this.fallback(config, 'gave an answer that is not {action: allow | refuse | replace} with valid content', 'error');
    this.deps.record(answer.action);
    if (answer.action === 'refuse') {
      throw new ApiError(Code.REFUSED, `refused by the app's backend: ${cap(answer.reason, REASON_MAX) || 'no reason given'}`);
    }
    return answer.action === 'allow' ? undefined : answer;
  }

  /**
   * A resend of a stored message (a lost ack) is answered by prepareSend with the stored one and
   * is not checked again. If the backend had replaced it, the resend (carrying what the client
   * first sent) is matched by the digest kept then and given the stored content, so it is that
   * message again rather than a conflicting reuse of its clientMsgId.
   */
  private async retried(caller: Caller, input: SendInput): Promise<SendInput | undefined> {
    const stored = await this.deps.findSent(caller.appId, caller.userId, input.clientMsgId);
    if (!stored) return undefined;
    if (stored.content === input.content) return input;
    const digest = await this.deps.store.replacementDigest(caller.appId, caller.userId, input.clientMsgId);
    return digest === digestOf(input) ? { ...input, content: stored.content } : input;
  }

  private fallback(config: WebhookConfig, why: string, outcome: BeforeSendOutcome): undefined {
    this.deps.record(outcome);
    if (config.beforeSend.onTimeout === 'allow') return undefined;
    throw new ApiError(Code.REFUSED, `refused: the app's backend (beforeSend) ${why}, and its onTimeout policy is "refuse"`);
  }
}
