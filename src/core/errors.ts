import { Code } from '../../server/src/protocol/codes';

/**
 * The one error class every public method rejects with. `code` is stable and meant for `switch`;
 * `message` says what went wrong and what to do about it.
 */
export type ImErrorCode =
  | 'E_INVALID_ARGUMENT'
  | 'E_NOT_CONNECTED'
  | 'E_NO_TOKEN'
  | 'E_NO_API_SERVER'
  | 'E_TOKEN_INVALID'
  | 'E_TOKEN_EXPIRED'
  | 'E_AUTH'
  | 'E_FORBIDDEN'
  | 'E_REFUSED'
  | 'E_NOT_FOUND'
  | 'E_CONFLICT'
  | 'E_PAYLOAD_TOO_LARGE'
  | 'E_RATE_LIMITED'
  | 'E_TIMEOUT'
  | 'E_NETWORK'
  | 'E_SEND_UNCERTAIN'
  | 'E_KICKED'
  | 'E_DESTROYED'
  | 'E_NO_ADAPTER'
  | 'E_UNSUPPORTED'
  | 'E_SERVER';

export class ImError extends Error {
  readonly code: ImErrorCode;
  /** The server's numeric code (docs/protocol.md section 3) when the server answered. */
  readonly serverCode?: number;
  readonly cause?: unknown;
  /**
   * On a rejected sendPrivateMessage/sendGroupMessage: the message's clientMsgId, the id history
   * and `imchat` carry. After E_SEND_UNCERTAIN it tells whether the message was stored after all.
   */
  readonly clientMsgId?: string;

  constructor(code: ImErrorCode, message: string, details: { cause?: unknown; serverCode?: number; clientMsgId?: string } = {}) {
    super(message);
    this.name = 'ImError';
    this.code = code;
    if (details.serverCode !== undefined) this.serverCode = details.serverCode;
    if (details.cause !== undefined) this.cause = details.cause;
    if (details.clientMsgId !== undefined) this.clientMsgId = details.clientMsgId;
    // Keeps `instanceof ImError` true when compiled to ES5-style classes.
    Object.setPrototypeOf(this, ImError.prototype);
  }

  override toString(): string {
    return `ImError [${this.code}]: ${this.message}`;
  }
}

export function isImError(value: unknown): value is ImError {
  return value instanceof ImError;
}

const SERVER_CODES: Record<number, ImErrorCode> = {
  [Code.INVALID_ARGUMENT]: 'E_INVALID_ARGUMENT',
  [Code.NO_TOKEN]: 'E_NO_TOKEN',
  [Code.TOKEN_INVALID]: 'E_TOKEN_INVALID',
  [Code.TOKEN_EXPIRED]: 'E_TOKEN_EXPIRED',
  [Code.APP_CREDENTIALS_INVALID]: 'E_AUTH',
  [Code.FORBIDDEN]: 'E_FORBIDDEN',
  [Code.USER_DISABLED]: 'E_FORBIDDEN',
  [Code.REFUSED]: 'E_REFUSED',
  [Code.NOT_FOUND]: 'E_NOT_FOUND',
  [Code.CONFLICT]: 'E_CONFLICT',
  [Code.PAYLOAD_TOO_LARGE]: 'E_PAYLOAD_TOO_LARGE',
  [Code.RATE_LIMITED]: 'E_RATE_LIMITED',
};

/** Maps a server envelope error onto an ImError, keeping the numeric code for callers that need it. */
export function fromServerError(code: number, message: string, context: string): ImError {
  const mapped = SERVER_CODES[code] ?? 'E_SERVER';
  return new ImError(mapped, `${context}: ${message || 'server error'} (server code ${code})`, { serverCode: code });
}

/** Wraps anything thrown by a platform layer so that no bare TypeError escapes a public method. */
export function toImError(err: unknown, fallback: ImErrorCode, context: string): ImError {
  if (err instanceof ImError) return err;
  const text = err instanceof Error ? err.message : String(err);
  return new ImError(fallback, `${context}: ${text}`, { cause: err });
}
