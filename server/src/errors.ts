/** Numeric error codes of docs/protocol.md section 3, shared by HTTP responses and socket acks. */
export const Code = {
  OK: 0,
  INVALID_ARGUMENT: 40000,
  NO_TOKEN: 40100,
  TOKEN_INVALID: 40101,
  TOKEN_EXPIRED: 40102,
  APP_CREDENTIALS_INVALID: 40103,
  FORBIDDEN: 40300,
  USER_DISABLED: 40301,
  NOT_FOUND: 40400,
  CONFLICT: 40900,
  PAYLOAD_TOO_LARGE: 41300,
  RATE_LIMITED: 42900,
  INTERNAL: 50000,
  SHUTTING_DOWN: 50300,
} as const;

export type CodeValue = (typeof Code)[keyof typeof Code];

/** An error that reaches the client as an envelope: the code picks the HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly code: CodeValue,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get httpStatus(): number {
    return this.code === 0 ? 200 : Math.floor(this.code / 100);
  }
}

export interface Envelope<T = unknown> {
  code: number;
  message: string;
  data?: T;
}

export function ok<T>(data: T): Envelope<T> {
  return { code: 0, message: 'ok', data };
}

export function fail(err: ApiError): Envelope {
  return { code: err.code, message: err.message };
}
