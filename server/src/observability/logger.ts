import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { IncomingMessage } from 'node:http';
import pino, { type DestinationStream, type Logger } from 'pino';

/** IM_LOG_LEVEL: `silent` logs nothing, `debug` adds socket connects and disconnects. */
export const LOG_LEVELS = ['silent', 'error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The server's own lines (gateway, storage, start-up): `detail` is an Error or a few fields. */
export type ServerLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, detail?: unknown) => void;

const CENSOR = '[redacted]';

/**
 * Where a secret can sit in what is logged. Request headers are not logged at all (see the `req`
 * serializer); these paths are the net under that, for fields a line may carry: credentials,
 * tokens (user and operator), webhook and S3 secrets, a socket handshake's `auth`.
 */
const SECRET_KEYS = ['authorization', 'cookie', 'appSecret', 'token', 'secret', 'password', 'auth', 'sig', 'signature', 'secretAccessKey', 'webhookSecret', 'metricsToken'];
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
];

/** Query parameters whose values are credentials: signed download URLs (`s`), Socket.IO's `token`. */
const SECRET_QUERY = new Set(['token', 's', 'sig', 'signature', 'secret', 'appsecret', 'access_token', 'auth']);

/** A URL as logged: the values of credential-bearing query parameters replaced. */
export function safeUrl(url: string | undefined): string | undefined {
  if (typeof url !== 'string') return url;
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const key = eq < 0 ? pair : pair.slice(0, eq);
      let name = key;
      try {
        name = decodeURIComponent(key);
      } catch {
        // a malformed escape: judged as written
      }
      return SECRET_QUERY.has(name.toLowerCase()) ? `${key}=${CENSOR}` : pair;
    })
    .join('&');
  return `${url.slice(0, q)}?${query}`;
}

interface LoggedRequest {
  method?: string;
  url?: string;
  ip?: string;
  host?: string;
  socket?: { remoteAddress?: string; remotePort?: number };
}

/** No headers: whatever a client sends (Authorization, cookies) stays out of the log. */
function requestSerializer(req: LoggedRequest) {
  return {
    method: req.method,
    url: safeUrl(req.url),
    host: req.host,
    remoteAddress: req.ip ?? req.socket?.remoteAddress,
    remotePort: req.socket?.remotePort,
  };
}

/** Unique within the process, so two servers of one process have two node ids. */
let nodesInProcess = 0;

/** IM_NODE_ID, else host name and process id (and a count for a second server in one process). */
export function defaultNodeId(): string {
  nodesInProcess += 1;
  const base = `${hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 48)}-${process.pid}`;
  return nodesInProcess === 1 ? base : `${base}-${nodesInProcess}`;
}

/** JSON lines, one object per line, ISO times, the node id on every line, secrets redacted. */
export function createLogger(level: LogLevel, nodeId: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid, hostname: hostname(), node: nodeId },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      serializers: { req: requestSerializer, err: pino.stdSerializers.err },
    },
    // stdout, written synchronously: the last lines before an exit are not lost in a buffer.
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** A client's own request id when it is a short plain token (it ends up in our log), else a new one. */
export function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(given)) return given;
  return randomUUID();
}

/** The server's log() over a pino logger: an Error goes under `err`, an object's fields are merged in. */
export function serverLog(logger: Logger): ServerLog {
  return (level, msg, detail) => {
    if (detail === undefined || detail === '') logger[level](msg);
    else if (detail instanceof Error) logger[level]({ err: detail }, msg);
    else if (typeof detail === 'object' && detail !== null) logger[level](detail as Record<string, unknown>, msg);
    else logger[level]({ detail: String(detail) }, msg);
  };
}
