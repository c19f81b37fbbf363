import type { TokenManager } from '../auth/token-manager';
import type { ClientContext } from '../core/context';
import { ImError } from '../core/errors';
import { checkUrl } from '../core/options';
import type { HttpResponse, UploadRequest } from '../adapter';
import { decodeAck } from '../core/envelope';
import { toImError } from '../core/errors';
import { HttpApi, type CallOptions } from './http-api';

export interface ApiRequest {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  body?: unknown;
  query?: Record<string, string | number | undefined>;
}

/**
 * The HTTP API as the SDK uses it: which server (the call's, the options', or the last one used),
 * and calls as the current user with one renewal through `tokenProvider` when the token expired.
 */
export class ApiClient {
  private readonly http: HttpApi;
  /** The API server of the last getToken(), used when neither the call nor the options name one. */
  private lastUsed: string | undefined;

  constructor(
    private readonly ctx: ClientContext,
    private readonly auth: TokenManager,
    /** Throws E_DESTROYED once the client is destroyed (inside the call, so it rejects). */
    private readonly assertAlive: () => void,
  ) {
    this.http = new HttpApi(() => ctx.adapter, ctx.opts.requestTimeout);
  }

  serverFor(method: string, given: unknown): string {
    if (given !== undefined && given !== null && given !== '') return checkUrl('apiServer', given);
    const fallback = this.ctx.opts.apiServer ?? this.lastUsed;
    if (!fallback) {
      throw new ImError('E_NO_API_SERVER', `${method}: no apiServer. Pass { apiServer } in this call or new ImClient({ apiServer }).`);
    }
    return fallback;
  }

  remember(apiServer: string): void {
    this.lastUsed = apiServer;
  }

  /** The API server calls go to, when one is known (media URLs are resolved against it). */
  base(): string | undefined {
    return this.ctx.opts.apiServer ?? this.lastUsed;
  }

  /**
   * A multipart upload to `path` as the current user through the adapter's uploadFile, with the
   * same envelope decoding and one token renewal as `authed`.
   */
  async upload<T>(method: string, apiServerArg: unknown, path: string, req: Omit<UploadRequest, 'url' | 'headers' | 'timeout'>): Promise<T> {
    this.assertAlive();
    const apiServer = this.serverFor(method, apiServerArg);
    const adapter = this.ctx.adapter;
    if (typeof adapter.uploadFile !== 'function') throw new ImError('E_UNSUPPORTED', `${method}: the ${adapter.name} adapter cannot upload files on this platform`);
    await this.auth.ensure(method, 'Call getToken() or connect({ token }) first, or set the tokenProvider option.');
    const timeout = this.ctx.opts.uploadTimeout;
    const once = async () => {
      let res: HttpResponse;
      try {
        res = await adapter.uploadFile!({ ...req, url: `${apiServer}${path}`, headers: { accept: 'application/json', authorization: `Bearer ${this.auth.current}` }, timeout });
      } catch (err) {
        const e = err as { timeout?: boolean; unsupported?: boolean; message?: string } | undefined;
        if (e?.unsupported) throw toImError(err, 'E_INVALID_ARGUMENT', `${method}: ${e.message ?? 'this file cannot be read here'}`);
        throw toImError(err, e?.timeout ? 'E_TIMEOUT' : 'E_NETWORK', `${method}: the upload to ${apiServer} ${e?.timeout ? `did not finish within ${timeout} ms (uploadTimeout)` : 'failed: no answer from the server'}`);
      }
      return decodeAck<T>(res.data, method, { noEnvelope: `${method}: ${apiServer}${path} answered HTTP ${res.status} without a comind-im envelope; is apiServer pointing at the IM API server?` });
    };
    try {
      return await once();
    } catch (err) {
      if (err instanceof ImError && err.code === 'E_TOKEN_EXPIRED' && this.auth.refreshable) {
        if (await this.auth.refresh(method)) return once();
      }
      throw err;
    }
  }

  /** A call that carries its own credentials (the app secret), not the user's token. */
  call<T>(apiServer: string, opts: CallOptions): Promise<T> {
    return this.http.call<T>(apiServer, opts);
  }

  /** A call as the current user; an expired token is renewed once through `tokenProvider`. */
  async authed<T>(method: string, apiServerArg: unknown, req: ApiRequest): Promise<T> {
    this.assertAlive();
    const apiServer = this.serverFor(method, apiServerArg);
    await this.auth.ensure(method, 'Call getToken() or connect({ token }) first, or set the tokenProvider option.');
    const call = () => this.http.call<T>(apiServer, { ...req, token: this.auth.current, context: method });
    try {
      return await call();
    } catch (err) {
      if (err instanceof ImError && err.code === 'E_TOKEN_EXPIRED' && this.auth.refreshable) {
        if (await this.auth.refresh(method)) return call();
      }
      throw err;
    }
  }
}
