import type { ImAdapter } from '../adapter';
import { ImError } from './errors';
import type { ImLogger, LogLevel } from './logger';
import { isLogLevel } from './logger';

export interface ImClientOptions {
  /** Socket.IO server, e.g. http://127.0.0.1:9998 */
  serverUrl?: string;
  /** HTTP API server, e.g. http://127.0.0.1:8890; per-call `apiServer` overrides it. */
  apiServer?: string;
  reconnection?: boolean;
  reconnectionAttempts?: number;
  reconnectionDelay?: number;
  /** Connection timeout per attempt, ms. */
  timeout?: number;
  /** Application heartbeat interval, ms. */
  pingInterval?: number;
  /** Heartbeat is 'inactive' (and the connection considered dead) when no pong arrives in this time, ms. */
  pingTimeout?: number;
  /** A send that has not reached the server within this time rejects with E_TIMEOUT, ms. */
  sendTimeout?: number;
  /** HTTP API request timeout, ms. */
  requestTimeout?: number;
  /** A file upload (uploadFile and the media sends) must finish within this time, ms. */
  uploadTimeout?: number;
  /** Returns a fresh token from your backend; used on connect, on expiry and on `tokenWillExpire`. */
  tokenProvider?: () => Promise<string> | string;
  /** Send delivery receipts (status 1) for private messages automatically. */
  autoDeliveryReceipt?: boolean;
  /** The platform layer; detected when omitted (wx -> weapp, uni -> uniapp, Taro -> taro, else web). */
  adapter?: ImAdapter;
  logLevel?: LogLevel;
  logger?: ImLogger;
}

export interface ResolvedOptions {
  serverUrl?: string;
  apiServer?: string;
  reconnection: boolean;
  reconnectionAttempts: number;
  reconnectionDelay: number;
  timeout: number;
  pingInterval: number;
  pingTimeout: number;
  sendTimeout: number;
  requestTimeout: number;
  uploadTimeout: number;
  tokenProvider?: () => Promise<string> | string;
  autoDeliveryReceipt: boolean;
  logLevel: LogLevel;
}

export const DEFAULTS = {
  reconnection: true,
  reconnectionAttempts: 5,
  reconnectionDelay: 3000,
  timeout: 30000,
  pingInterval: 25000,
  pingTimeout: 60000,
  sendTimeout: 15000,
  requestTimeout: 15000,
  uploadTimeout: 120000,
  autoDeliveryReceipt: true,
  logLevel: 'warn' as LogLevel,
};

function bad(name: string, rule: string): ImError {
  return new ImError('E_INVALID_ARGUMENT', `Option "${name}" ${rule}.`);
}

function num(opts: Record<string, unknown>, name: keyof typeof DEFAULTS, min: number, allowInfinity = false): number {
  const v = opts[name];
  if (v === undefined) return DEFAULTS[name] as number;
  if (typeof v !== 'number' || Number.isNaN(v) || v < min || (!allowInfinity && !Number.isFinite(v))) {
    throw bad(name, `must be a number >= ${min}${allowInfinity ? ' (or Infinity)' : ''}, got ${String(v)}`);
  }
  return v;
}

export function checkUrl(name: string, value: unknown): string {
  if (typeof value !== 'string' || !/^(https?|wss?):\/\/[^\s/]+/i.test(value)) {
    throw bad(name, `must be an http(s) or ws(s) URL such as "http://127.0.0.1:9998", got ${JSON.stringify(value)}`);
  }
  return value.replace(/\/+$/, '');
}

export function resolveOptions(input: unknown): ResolvedOptions {
  if (input === undefined || input === null) input = {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new ImError('E_INVALID_ARGUMENT', 'new ImClient(options): options must be an object.');
  }
  const o = input as Record<string, unknown>;
  const reconnection = o.reconnection === undefined ? DEFAULTS.reconnection : o.reconnection;
  if (typeof reconnection !== 'boolean') throw bad('reconnection', 'must be true or false');
  const autoDeliveryReceipt = o.autoDeliveryReceipt === undefined ? DEFAULTS.autoDeliveryReceipt : o.autoDeliveryReceipt;
  if (typeof autoDeliveryReceipt !== 'boolean') throw bad('autoDeliveryReceipt', 'must be true or false');
  const logLevel = o.logLevel === undefined ? DEFAULTS.logLevel : o.logLevel;
  if (!isLogLevel(logLevel)) throw bad('logLevel', "must be one of 'debug', 'info', 'warn', 'error', 'silent'");
  if (o.tokenProvider !== undefined && typeof o.tokenProvider !== 'function') {
    throw bad('tokenProvider', 'must be a function returning a token (or a promise of one)');
  }
  const resolved: ResolvedOptions = {
    reconnection,
    reconnectionAttempts: num(o, 'reconnectionAttempts', 0, true),
    reconnectionDelay: num(o, 'reconnectionDelay', 0),
    timeout: num(o, 'timeout', 1),
    pingInterval: num(o, 'pingInterval', 1),
    pingTimeout: num(o, 'pingTimeout', 1),
    sendTimeout: num(o, 'sendTimeout', 1),
    requestTimeout: num(o, 'requestTimeout', 1),
    uploadTimeout: num(o, 'uploadTimeout', 1),
    autoDeliveryReceipt,
    logLevel,
  };
  if (o.serverUrl !== undefined) resolved.serverUrl = checkUrl('serverUrl', o.serverUrl);
  if (o.apiServer !== undefined) resolved.apiServer = checkUrl('apiServer', o.apiServer);
  if (o.tokenProvider) resolved.tokenProvider = o.tokenProvider as ResolvedOptions['tokenProvider'];
  return resolved;
}
