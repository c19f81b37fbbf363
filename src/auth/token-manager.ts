import type { ClientContext } from '../core/context';
import { ImError, toImError } from '../core/errors';
import type { TokenUser } from '../core/storage-keys';
import { describe } from '../core/validate';
import { readClaims } from './jwt-claims';

/** The one shape check for tokens: three dot-separated parts. The server does the real check. */
export function isJwtShaped(value: unknown): value is string {
  return typeof value === 'string' && value.split('.').length === 3;
}

/** What the token manager asks of the connection. */
export interface TokenControl {
  /** True between connect() and disconnect()/kick/expiry. */
  isActive(): boolean;
  /** Hands a new token to a live connection (`token:renew`), or retries a connection that gave up. */
  renew(token: string): Promise<void>;
  /** Opens the socket again now that a fresh token is there. */
  reconnect(): void;
  /** Ends the connection for good (the lifecycle stops). */
  end(code: 'E_TOKEN_EXPIRED', reason: string, disconnectReason: string, error?: ImError): void;
}

/**
 * Owns the token: where it came from (connect, getToken, renewToken, tokenProvider), renewal
 * before expiry, recovery after expiry, and the user it names (for per-user storage keys).
 */
export class TokenManager {
  private token: string | undefined;
  private claims: { token: string; user: TokenUser | undefined } | undefined;

  constructor(
    private readonly ctx: ClientContext,
    private readonly control: TokenControl,
  ) {}

  get current(): string | undefined {
    return this.token;
  }

  /** A token that passed the shape check. */
  set(token: string): void {
    this.token = token;
  }

  get refreshable(): boolean {
    return !!this.ctx.opts.tokenProvider;
  }

  /** The app and user the token names, read once per token (decoding showed up in profiles). */
  user(): TokenUser | undefined {
    const token = this.token;
    if (!token) return undefined;
    if (this.claims?.token !== token) {
      const c = readClaims(token);
      this.claims = { token, user: c ? { app: c.app, sub: c.sub } : undefined };
    }
    return this.claims.user;
  }

  /** The token, from `tokenProvider` when there is none yet; E_NO_TOKEN when neither has one. */
  async ensure(method: string, hint: string): Promise<string> {
    if (!this.token) this.token = await this.fetchProvided(method);
    if (!this.token) throw new ImError('E_NO_TOKEN', `${method}: no token. ${hint}`);
    return this.token;
  }

  /** Asks `tokenProvider` (if any) for a fresh token and keeps it; undefined without a provider. */
  async refresh(context: string): Promise<string | undefined> {
    const token = await this.fetchProvided(context);
    if (token) this.token = token;
    return token;
  }

  async fetchProvided(context: string): Promise<string | undefined> {
    const provider = this.ctx.opts.tokenProvider;
    if (!provider) return undefined;
    let token: unknown;
    try {
      token = await provider();
    } catch (err) {
      throw toImError(err, 'E_NO_TOKEN', `${context}: tokenProvider failed`);
    }
    if (!isJwtShaped(token)) {
      throw new ImError('E_NO_TOKEN', `${context}: tokenProvider must return a token string, it returned ${describe(token)}.`);
    }
    return token;
  }

  /** The server refused or ended the session for an expired token: get a fresh one and reconnect. */
  async refreshAndReconnect(): Promise<void> {
    try {
      const token = await this.fetchProvided('reconnect');
      if (!token || !this.control.isActive()) return;
      this.token = token;
      this.control.reconnect();
    } catch (err) {
      const error = toImError(err, 'E_TOKEN_EXPIRED', 'reconnect');
      this.ctx.emitError(error);
      this.control.end('E_TOKEN_EXPIRED', 'the token expired and tokenProvider failed', 'io client disconnect', error);
    }
  }

  /** `token:will-expire` from the server. */
  onWillExpire(info: { expiresAt?: unknown } | undefined): void {
    this.ctx.events.emit('tokenWillExpire', { expiresAt: Number(info?.expiresAt) || 0 });
    if (!this.refreshable) return;
    void (async () => {
      try {
        const token = await this.fetchProvided('renewToken');
        if (!token) return;
        this.token = token;
        await this.control.renew(token);
      } catch (err) {
        this.ctx.emitError(toImError(err, 'E_TOKEN_EXPIRED', 'automatic token renewal failed'));
      }
    })();
  }

  /** `token:expired` from the server, which closes the socket next. */
  onExpired(info: { expiresAt?: unknown } | undefined): void {
    this.ctx.events.emit('tokenExpired', { expiresAt: Number(info?.expiresAt) || 0 });
    if (this.refreshable) {
      // A fresh token makes the reconnect that follows the close succeed.
      void this.refreshAndReconnect();
      return;
    }
    this.control.end('E_TOKEN_EXPIRED', 'the token expired', 'token expired');
  }
}
