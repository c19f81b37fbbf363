import type { ImAdapter, HttpRequest, HttpResponse } from '../adapter';
import { decodeAck } from '../core/envelope';
import { toImError } from '../core/errors';

export interface CallOptions {
  method: HttpRequest['method'];
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  token?: string;
  /** Names the public method in error messages. */
  context: string;
}

/** The HTTP half of the protocol: one envelope in, typed data or an ImError out. */
export class HttpApi {
  constructor(
    private readonly adapter: () => ImAdapter,
    private readonly timeout: number,
  ) {}

  async call<T>(apiServer: string, opts: CallOptions): Promise<T> {
    const qs = opts.query
      ? Object.keys(opts.query)
          .filter((k) => opts.query![k] !== undefined)
          .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(String(opts.query![k]))}`)
          .join('&')
      : '';
    const url = `${apiServer}${opts.path}${qs ? `?${qs}` : ''}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const req: HttpRequest = { method: opts.method, url, headers, timeout: this.timeout };
    if (opts.body !== undefined) req.body = opts.body;

    let res: HttpResponse;
    try {
      res = await this.adapter().request(req);
    } catch (err) {
      const timedOut = !!(err && typeof err === 'object' && (err as { timeout?: boolean }).timeout);
      throw toImError(
        err,
        timedOut ? 'E_TIMEOUT' : 'E_NETWORK',
        `${opts.context}: the API server at ${apiServer} ${timedOut ? `did not answer within ${this.timeout} ms` : 'could not be reached'}`,
      );
    }
    return decodeAck<T>(res.data, opts.context, {
      noEnvelope: `${opts.context}: ${url} answered HTTP ${res.status} without a comind-im envelope; is apiServer pointing at the IM API server?`,
    });
  }
}
