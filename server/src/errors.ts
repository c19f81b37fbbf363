import { Code, type CodeValue } from './protocol';

export { Code, type CodeValue };

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
