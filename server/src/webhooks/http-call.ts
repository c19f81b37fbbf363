import { isIP } from 'node:net';
import { Agent, buildConnector, fetch, type Dispatcher, type Response } from 'undici';
import { addressRefusal, DestinationRefused, guardedLookup, type DestinationPolicy } from './destinations';
import { signWebhook } from './signature';

export interface CallOutcome {
  /** A 2xx answer arrived (and, when a body was wanted, it was read within the limit). */
  ok: boolean;
  status?: number;
  /** The answer's body when `readBody` (undefined when it was over the limit). */
  body?: string;
  /** Why it failed: `timeout`, `network: …`, `destination refused: …`, `status 500`, `body too large`. */
  error?: string;
}

export interface SignedCall {
  url: string;
  secret: string;
  event: string;
  /** X-Comind-Idempotency-Key: the same for every attempt of one event. */
  id: string;
  body: string;
  timeoutMs: number;
  /** Read the answer (beforeSend) up to this many bytes; otherwise it is discarded. */
  readBody?: number;
  /** Aborts the call early (the server is stopping). */
  signal?: AbortSignal;
  /** The connections the call may use: `destinationAgent`'s, which holds them to the destination policy. */
  dispatcher: Dispatcher;
}

/**
 * The connection pool of webhook calls, held to the policy where each connection is made: an IP
 * address in the URL is judged before connecting (Node does no lookup for one), a name is
 * resolved by `guardedLookup`, which hands the socket only allowed addresses. Checking there,
 * rather than the URL before the call, is what makes a DNS answer that changes (rebinding)
 * useless against it. Agent and fetch both come from the undici package: Node's global fetch is
 * its own bundled undici, which is not promised to work with an Agent of another version.
 */
export function destinationAgent(policy: DestinationPolicy): Agent {
  if (policy.allowPrivate) return new Agent();
  const connect = buildConnector({ lookup: guardedLookup(policy) });
  return new Agent({
    connect(options, callback) {
      const refused = isIP(options.hostname) ? addressRefusal(policy, options.hostname) : undefined;
      if (refused) return callback(new DestinationRefused(refused), null);
      return connect(options, callback);
    },
  });
}

/**
 * One signed POST to the app's backend (undici's fetch on `call.dispatcher`). Redirects are not
 * followed: a 3xx is a failure like any non-2xx, so a backend cannot bounce calls to an address it
 * was not configured with. Never throws.
 */
export async function postSigned(call: SignedCall): Promise<CallOutcome> {
  const timestamp = String(Date.now());
  const timeout = AbortSignal.timeout(call.timeoutMs);
  const signal = call.signal ? AbortSignal.any([timeout, call.signal]) : timeout;
  try {
    const res = await fetch(call.url, {
      method: 'POST',
      redirect: 'manual',
      signal,
      dispatcher: call.dispatcher,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'user-agent': 'comind-im-server-webhooks/1',
        'x-comind-event': call.event,
        'x-comind-timestamp': timestamp,
        'x-comind-signature': signWebhook(call.secret, timestamp, call.body),
        'x-comind-idempotency-key': call.id,
      },
      body: call.body,
    });
    const ok = res.status >= 200 && res.status < 300;
    if (!ok || call.readBody === undefined) {
      await res.body?.cancel().catch(() => undefined);
      return ok ? { ok, status: res.status } : { ok, status: res.status, error: `status ${res.status}` };
    }
    const body = await readLimited(res, call.readBody);
    return body === undefined ? { ok: false, status: res.status, error: 'body too large' } : { ok: true, status: res.status, body };
  } catch (err) {
    if (timeout.aborted) return { ok: false, error: 'timeout' };
    if (call.signal?.aborted) return { ok: false, error: 'aborted' };
    const e = err as { message?: string; cause?: { code?: string; message?: string } };
    if (e.cause instanceof DestinationRefused) return { ok: false, error: e.cause.message };
    return { ok: false, error: `network: ${e.cause?.code ?? e.cause?.message ?? e.message ?? String(err)}` };
  }
}

async function readLimited(res: Response, max: number): Promise<string | undefined> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > max) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
