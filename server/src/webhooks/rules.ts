import { randomBytes } from 'node:crypto';
import { ApiError, Code } from '../errors';
import { DEFAULT_BEFORE_SEND, SECRET_MAX, SECRET_MIN, URL_MAX, WEBHOOK_EVENTS, type BeforeSendPolicy, type WebhookEventName } from './types';

/** PUT /api/server/webhooks (and IM_WEBHOOK_* for the development app). */
export interface WebhookInput {
  url: string;
  events: string[];
  secret?: string;
  beforeSend?: { timeoutMs?: number; onTimeout?: string };
}

export interface CheckedWebhook {
  url: string;
  events: WebhookEventName[];
  /** Generated when none was given (then returned once to the caller). */
  secret: string;
  generated: boolean;
  beforeSend: BeforeSendPolicy;
}

/** Problems with a webhook configuration, each naming the field and the rule; empty when it is fine. */
export function webhookProblems(input: WebhookInput): string[] {
  const problems: string[] = [];
  let url: URL | undefined;
  try {
    url = typeof input.url === 'string' && input.url.length <= URL_MAX ? new URL(input.url) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) problems.push(`url: must be an http:// or https:// URL of at most ${URL_MAX} characters`);
  else if (url.username || url.password) problems.push('url: must not carry credentials (the calls are signed with the secret)');
  if (!Array.isArray(input.events) || input.events.some((e) => !(WEBHOOK_EVENTS as readonly string[]).includes(e))) problems.push(`events: each must be one of ${WEBHOOK_EVENTS.join(', ')}`);
  if (input.secret !== undefined && (typeof input.secret !== 'string' || input.secret.length < SECRET_MIN || input.secret.length > SECRET_MAX || /[\u0000-\u001f\u007f]/.test(input.secret))) {
    problems.push(`secret: ${SECRET_MIN}-${SECRET_MAX} printable characters (leave it out to have one generated)`);
  }
  const t = input.beforeSend?.timeoutMs;
  if (t !== undefined && (typeof t !== 'number' || !Number.isInteger(t) || t < 100 || t > 10_000)) problems.push('beforeSend.timeoutMs: an integer from 100 to 10000');
  const o = input.beforeSend?.onTimeout;
  if (o !== undefined && o !== 'allow' && o !== 'refuse') problems.push('beforeSend.onTimeout: "allow" (let messages through) or "refuse"');
  return problems;
}

/** The configuration to store; 40000 naming the first problem. */
export function checkWebhook(input: WebhookInput): CheckedWebhook {
  const problems = webhookProblems(input);
  if (problems.length) throw new ApiError(Code.INVALID_ARGUMENT, problems[0]!);
  const generated = input.secret === undefined;
  return {
    url: input.url,
    events: [...new Set(input.events)] as WebhookEventName[],
    secret: input.secret ?? `whsec_${randomBytes(32).toString('base64url')}`,
    generated,
    beforeSend: {
      timeoutMs: input.beforeSend?.timeoutMs ?? DEFAULT_BEFORE_SEND.timeoutMs,
      onTimeout: (input.beforeSend?.onTimeout as BeforeSendPolicy['onTimeout'] | undefined) ?? DEFAULT_BEFORE_SEND.onTimeout,
    },
  };
}
