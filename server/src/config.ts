/** Server configuration: environment variables (names fixed by docs/protocol.md section 7) or options. */
export interface ServerConfig {
  apiPort: number;
  socketPort: number;
  host: string;
  dataDir: string;
  tokenTtl: number;
  devAppId?: string;
  devAppSecret?: string;
  sessionPolicy: 'multi' | 'kick';
  rateLimit: number;
  rateBurst: number;
  /** Seconds an HTTP API request (headers and body) may take before the connection is closed. */
  httpRequestTimeout: number;
  /** Open TCP connections per client address, per port (0: no cap, e.g. behind a proxy). */
  maxConnectionsPerIp: number;
  /** Socket.IO connections one user may hold at once (across devices). */
  maxSocketsPerUser: number;
  /** HTTP API requests per user per minute. */
  httpRateLimit: number;
  /** Requests per client address per minute to the app-secret endpoints (/api/token, /api/users). */
  httpAuthRateLimit: number;
  /** The longest lifetime (exp - iat, seconds) a token may claim; longer ones are refused. */
  tokenMaxTtl: number;
  /** Members a group may have. */
  groupMaxMembers: number;
  /** Seconds after sending in which the sender may revoke a message (group owners and admins: any time). */
  revokeWindow: number;
  /** Seconds after sending in which the sender may edit a message. */
  editWindow: number;
  /** Seconds a user stays online after their last device went, so a quick reconnect does not flap. */
  presenceGrace: number;
  /** Bytes of messages in one chat:sync or history reply (at least one message is always sent). */
  replyMaxBytes: number;
  /**
   * What a commit survives before the ack goes out (SQLite; docs/reliability.md): `normal` (WAL,
   * synchronous=NORMAL) a crash of the server process, `full` (synchronous=FULL, an fsync per
   * commit) an operating-system crash or power loss too. PostgreSQL follows its own
   * synchronous_commit instead.
   */
  durability: 'normal' | 'full';
  /** postgres://… : PostgreSQL instead of SQLite in dataDir (every node of a cluster the same). */
  databaseUrl?: string;
  /** Connections of this node's PostgreSQL pool. */
  dbPoolSize: number;
  /** redis://… : the Socket.IO Redis Streams adapter, so nodes deliver to each other's sockets. */
  redisUrl?: string;
  /** Where uploaded files go: `disk` (under dataDir/files) or `s3` (any S3-compatible service). */
  fileDriver: 'disk' | 's3';
  /** Bytes of one upload, any kind (a file message's limit). */
  uploadMaxBytes: number;
  uploadMaxImageBytes: number;
  uploadMaxAudioBytes: number;
  uploadMaxVideoBytes: number;
  /** Seconds an upload may take (the other API requests have httpRequestTimeout). */
  uploadTimeout: number;
  /** Kilobytes per second one user may upload on average (across nodes with Redis). */
  uploadRate: number;
  /** Kilobytes one user may upload in a burst. */
  uploadBurst: number;
  /** Seconds an upload may wait to be put into a message before it is deleted. */
  uploadOrphanTtl: number;
  /** Seconds a signed download URL lives; messages get fresh ones whenever they are delivered or read. */
  fileUrlTtl: number;
  /** https://… : makes download URLs absolute (behind a proxy); without it they are paths on the API server. */
  publicUrl?: string;
  s3Endpoint?: string;
  s3Region: string;
  s3Bucket?: string;
  s3AccessKeyId?: string;
  s3SecretAccessKey?: string;
  /** Key prefix inside the bucket. */
  s3Prefix: string;
  /** This node's name in metrics, logs and GET /api/server/stats (default: host name and process id). */
  nodeId?: string;
  /** When set, GET /metrics needs `Authorization: Bearer <it>`; unset, it is open on the API port. */
  metricsToken?: string;
  /** JSON log lines from this level up (unset: `createImServer` logs only errors, plainly; `npm start` uses info). */
  logLevel?: LogLevel;
  /** The development app's webhook (docs/webhooks.md), set at every start: its URL, secret and events. */
  webhookUrl?: string;
  webhookSecret?: string;
  /** Comma-separated event names (default: every event but beforeSend). */
  webhookEvents?: string;
  /**
   * Let webhook calls reach loopback, private, link-local and other non-public addresses (a
   * backend on the same machine or private network); unset or false, they are refused.
   */
  webhookAllowPrivate?: boolean;
  /** Comma-separated CIDRs (or addresses) webhook calls may reach although they are not public. */
  webhookAllowCidrs?: string;
}

export const DEFAULT_CONFIG: ServerConfig = {
  apiPort: 8890,
  socketPort: 9998,
  host: '0.0.0.0',
  dataDir: './data',
  tokenTtl: 86400,
  sessionPolicy: 'multi',
  rateLimit: 50,
  rateBurst: 100,
  httpRequestTimeout: 15,
  maxConnectionsPerIp: 256,
  maxSocketsPerUser: 10,
  httpRateLimit: 1200,
  httpAuthRateLimit: 120,
  tokenMaxTtl: 30 * 86400,
  groupMaxMembers: 10_000,
  revokeWindow: 120,
  editWindow: 86_400,
  presenceGrace: 5,
  replyMaxBytes: 1_000_000,
  durability: 'normal',
  dbPoolSize: 10,
  fileDriver: 'disk',
  uploadMaxBytes: 50 * 1024 * 1024,
  uploadMaxImageBytes: 20 * 1024 * 1024,
  uploadMaxAudioBytes: 10 * 1024 * 1024,
  uploadMaxVideoBytes: 50 * 1024 * 1024,
  uploadTimeout: 300,
  uploadRate: 1024,
  uploadBurst: 200 * 1024,
  uploadOrphanTtl: 86400,
  fileUrlTtl: 86400,
  s3Region: 'us-east-1',
  s3Prefix: '',
};

export { ID_PATTERN } from './protocol';
import { ID_PATTERN } from './protocol';
import { LOG_LEVELS, type LogLevel } from './observability/logger';
import { DEFAULT_DESTINATIONS, literalRefusal, parseCidrs, type DestinationPolicy } from './webhooks/destinations';
import { webhookProblems } from './webhooks/rules';
import { SECRET_MIN, WEBHOOK_EVENTS } from './webhooks/types';

/** IM_WEBHOOK_EVENTS as a list; unset: every event delivered through the queue (beforeSend is opted into). */
export function devWebhookEvents(c: Pick<ServerConfig, 'webhookEvents'>): string[] {
  if (c.webhookEvents === undefined) return WEBHOOK_EVENTS.filter((e) => e !== 'beforeSend');
  return String(c.webhookEvents).split(',').map((e) => e.trim()).filter((e) => e !== '');
}

/** Where webhook calls may go (IM_WEBHOOK_ALLOW_PRIVATE, IM_WEBHOOK_ALLOW_CIDRS); call on a resolved config. */
export function webhookDestinations(c: Pick<ServerConfig, 'webhookAllowPrivate' | 'webhookAllowCidrs'>): DestinationPolicy {
  if (c.webhookAllowPrivate === true) return { allowPrivate: true, allowCidrs: [] };
  return c.webhookAllowCidrs ? { allowPrivate: false, allowCidrs: parseCidrs(c.webhookAllowCidrs) } : DEFAULT_DESTINATIONS;
}
const TEN_YEARS = 10 * 365 * 86400;

/** A configuration value that cannot work; the message names the setting and the rule. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function intRule(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

const ENV_NAMES: Record<keyof ServerConfig, string> = {
  apiPort: 'IM_API_PORT',
  socketPort: 'IM_SOCKET_PORT',
  host: 'IM_HOST',
  dataDir: 'IM_DATA_DIR',
  tokenTtl: 'IM_TOKEN_TTL',
  devAppId: 'IM_DEV_APP_ID',
  devAppSecret: 'IM_DEV_APP_SECRET',
  sessionPolicy: 'IM_SESSION_POLICY',
  rateLimit: 'IM_RATE_LIMIT',
  rateBurst: 'IM_RATE_BURST',
  httpRequestTimeout: 'IM_HTTP_REQUEST_TIMEOUT',
  maxConnectionsPerIp: 'IM_MAX_CONNECTIONS_PER_IP',
  maxSocketsPerUser: 'IM_MAX_SOCKETS_PER_USER',
  httpRateLimit: 'IM_HTTP_RATE_LIMIT',
  httpAuthRateLimit: 'IM_HTTP_AUTH_RATE_LIMIT',
  tokenMaxTtl: 'IM_TOKEN_MAX_TTL',
  groupMaxMembers: 'IM_GROUP_MAX_MEMBERS',
  revokeWindow: 'IM_REVOKE_WINDOW',
  editWindow: 'IM_EDIT_WINDOW',
  presenceGrace: 'IM_PRESENCE_GRACE',
  replyMaxBytes: 'IM_REPLY_MAX_BYTES',
  durability: 'IM_DURABILITY',
  databaseUrl: 'IM_DATABASE_URL',
  dbPoolSize: 'IM_DB_POOL_SIZE',
  redisUrl: 'IM_REDIS_URL',
  fileDriver: 'IM_FILE_DRIVER',
  uploadMaxBytes: 'IM_UPLOAD_MAX_BYTES',
  uploadMaxImageBytes: 'IM_UPLOAD_MAX_IMAGE_BYTES',
  uploadMaxAudioBytes: 'IM_UPLOAD_MAX_AUDIO_BYTES',
  uploadMaxVideoBytes: 'IM_UPLOAD_MAX_VIDEO_BYTES',
  uploadTimeout: 'IM_UPLOAD_TIMEOUT',
  uploadRate: 'IM_UPLOAD_RATE',
  uploadBurst: 'IM_UPLOAD_BURST',
  uploadOrphanTtl: 'IM_UPLOAD_ORPHAN_TTL',
  fileUrlTtl: 'IM_FILE_URL_TTL',
  publicUrl: 'IM_PUBLIC_URL',
  s3Endpoint: 'IM_S3_ENDPOINT',
  s3Region: 'IM_S3_REGION',
  s3Bucket: 'IM_S3_BUCKET',
  s3AccessKeyId: 'IM_S3_ACCESS_KEY_ID',
  s3SecretAccessKey: 'IM_S3_SECRET_ACCESS_KEY',
  s3Prefix: 'IM_S3_PREFIX',
  nodeId: 'IM_NODE_ID',
  metricsToken: 'IM_METRICS_TOKEN',
  logLevel: 'IM_LOG_LEVEL',
  webhookUrl: 'IM_WEBHOOK_URL',
  webhookSecret: 'IM_WEBHOOK_SECRET',
  webhookEvents: 'IM_WEBHOOK_EVENTS',
  webhookAllowPrivate: 'IM_WEBHOOK_ALLOW_PRIVATE',
  webhookAllowCidrs: 'IM_WEBHOOK_ALLOW_CIDRS',
};

/**
 * Fills defaults and checks every setting, so a typo fails at startup with a message naming the
 * setting instead of surfacing later as a refused port or a silently ignored limit.
 * `names` maps fields to what the user typed (env variable or option name) for the messages.
 */
export function resolveConfig(partial: Partial<ServerConfig>, names: Partial<Record<keyof ServerConfig, string>> = {}): ServerConfig {
  const n = (k: keyof ServerConfig) => names[k] ?? k;
  const c: ServerConfig = { ...DEFAULT_CONFIG };
  for (const k of Object.keys(ENV_NAMES) as Array<keyof ServerConfig>) {
    const v = (partial as Record<string, unknown>)[k];
    if (v !== undefined) (c as unknown as Record<string, unknown>)[k] = v;
  }
  intRule(n('apiPort'), c.apiPort, 0, 65535);
  intRule(n('socketPort'), c.socketPort, 0, 65535);
  if (typeof c.host !== 'string' || !/^[A-Za-z0-9.:_%-]{1,253}$/.test(c.host)) {
    throw new ConfigError(`${n('host')} must be a host name or IP address such as 0.0.0.0 or 127.0.0.1, got ${JSON.stringify(c.host)}`);
  }
  if (typeof c.dataDir !== 'string' || c.dataDir.length === 0) throw new ConfigError(`${n('dataDir')} must be a directory path (or ':memory:')`);
  intRule(n('tokenMaxTtl'), c.tokenMaxTtl, 60, TEN_YEARS);
  intRule(n('tokenTtl'), c.tokenTtl, 1, c.tokenMaxTtl);
  if (c.sessionPolicy !== 'multi' && c.sessionPolicy !== 'kick') {
    throw new ConfigError(`${n('sessionPolicy')} must be "multi" or "kick", got ${JSON.stringify(c.sessionPolicy)}`);
  }
  intRule(n('rateLimit'), c.rateLimit, 1, 1_000_000);
  intRule(n('rateBurst'), c.rateBurst, 1, 1_000_000);
  intRule(n('httpRequestTimeout'), c.httpRequestTimeout, 1, 3600);
  intRule(n('maxConnectionsPerIp'), c.maxConnectionsPerIp, 0, 1_000_000);
  intRule(n('maxSocketsPerUser'), c.maxSocketsPerUser, 1, 10_000);
  intRule(n('httpRateLimit'), c.httpRateLimit, 1, 100_000_000);
  intRule(n('httpAuthRateLimit'), c.httpAuthRateLimit, 1, 100_000_000);
  intRule(n('groupMaxMembers'), c.groupMaxMembers, 2, 1_000_000);
  intRule(n('revokeWindow'), c.revokeWindow, 0, 365 * 86400);
  intRule(n('editWindow'), c.editWindow, 0, 365 * 86400);
  intRule(n('presenceGrace'), c.presenceGrace, 0, 3600);
  intRule(n('replyMaxBytes'), c.replyMaxBytes, 100_000, 100_000_000);
  intRule(n('dbPoolSize'), c.dbPoolSize, 1, 1000);
  if (c.durability !== 'normal' && c.durability !== 'full') {
    throw new ConfigError(`${n('durability')} must be "normal" or "full", got ${JSON.stringify(c.durability)}`);
  }
  if (c.redisUrl !== undefined && (typeof c.redisUrl !== 'string' || !/^rediss?:\/\/\S+$/.test(c.redisUrl))) {
    throw new ConfigError(`${n('redisUrl')} must be a redis://host:port URL`);
  }
  if (c.databaseUrl !== undefined && (typeof c.databaseUrl !== 'string' || !/^postgres(ql)?:\/\/\S+$/.test(c.databaseUrl))) {
    throw new ConfigError(`${n('databaseUrl')} must be a postgres://user:password@host:port/database URL`);
  }
  if (c.fileDriver !== 'disk' && c.fileDriver !== 's3') throw new ConfigError(`${n('fileDriver')} must be "disk" or "s3", got ${JSON.stringify(c.fileDriver)}`);
  intRule(n('uploadMaxBytes'), c.uploadMaxBytes, 1024, 4 * 1024 * 1024 * 1024);
  intRule(n('uploadMaxImageBytes'), c.uploadMaxImageBytes, 1024, 4 * 1024 * 1024 * 1024);
  intRule(n('uploadMaxAudioBytes'), c.uploadMaxAudioBytes, 1024, 4 * 1024 * 1024 * 1024);
  intRule(n('uploadMaxVideoBytes'), c.uploadMaxVideoBytes, 1024, 4 * 1024 * 1024 * 1024);
  intRule(n('uploadTimeout'), c.uploadTimeout, 1, 86400);
  intRule(n('uploadRate'), c.uploadRate, 1, 100_000_000);
  intRule(n('uploadBurst'), c.uploadBurst, 1, 100_000_000);
  intRule(n('uploadOrphanTtl'), c.uploadOrphanTtl, 60, 365 * 86400);
  intRule(n('fileUrlTtl'), c.fileUrlTtl, 60, 30 * 86400);
  if (c.publicUrl !== undefined && (typeof c.publicUrl !== 'string' || !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(c.publicUrl))) {
    throw new ConfigError(`${n('publicUrl')} must be an http(s):// URL such as https://im.example.com`);
  }
  if (c.fileDriver === 's3') {
    for (const k of ['s3Bucket', 's3AccessKeyId', 's3SecretAccessKey'] as const) {
      if (typeof c[k] !== 'string' || c[k] === '') throw new ConfigError(`${n(k)} is needed with ${n('fileDriver')}=s3`);
    }
    if (c.s3Endpoint !== undefined && (typeof c.s3Endpoint !== 'string' || !/^https?:\/\/\S+$/.test(c.s3Endpoint))) {
      throw new ConfigError(`${n('s3Endpoint')} must be an http(s):// URL (e.g. https://cos.ap-shanghai.myqcloud.com)`);
    }
  }
  if (c.webhookAllowPrivate !== undefined && typeof c.webhookAllowPrivate !== 'boolean') {
    throw new ConfigError(`${n('webhookAllowPrivate')} must be 1 (allow) or 0 (refuse; true or false as an option), got ${JSON.stringify(c.webhookAllowPrivate)}`);
  }
  if (c.webhookAllowCidrs !== undefined) {
    try {
      if (typeof c.webhookAllowCidrs !== 'string') throw new Error('must be a comma-separated list such as 10.1.0.0/16,fd00::/8');
      parseCidrs(c.webhookAllowCidrs);
    } catch (err) {
      throw new ConfigError(`${n('webhookAllowCidrs')}: ${(err as Error).message}`);
    }
  }
  if (c.webhookUrl !== undefined || c.webhookSecret !== undefined || c.webhookEvents !== undefined) {
    if (c.webhookUrl === undefined) throw new ConfigError(`${n('webhookUrl')} is needed with ${n('webhookSecret')} or ${n('webhookEvents')}`);
    if (c.webhookSecret === undefined) throw new ConfigError(`${n('webhookSecret')} is needed with ${n('webhookUrl')}: ${SECRET_MIN}+ characters, the key your backend checks signatures with`);
    const problem = webhookProblems({ url: c.webhookUrl, secret: c.webhookSecret, events: devWebhookEvents(c) })[0];
    if (problem) throw new ConfigError(`${n(problem.startsWith('url') ? 'webhookUrl' : problem.startsWith('secret') ? 'webhookSecret' : 'webhookEvents')}: ${problem.slice(problem.indexOf(':') + 2)}`);
    // An address is judged here, at once; a name is judged by every call (DNS may change).
    const refused = literalRefusal(webhookDestinations(c), c.webhookUrl);
    const allow = names.webhookAllowPrivate ? `${names.webhookAllowPrivate}=1` : 'webhookAllowPrivate: true';
    if (refused) throw new ConfigError(`${n('webhookUrl')}: ${refused}, where webhook calls are refused; set ${allow} for a backend on this machine or its private network (or list its network in ${n('webhookAllowCidrs')})`);
  }
  if (c.nodeId !== undefined && (typeof c.nodeId !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(c.nodeId))) {
    throw new ConfigError(`${n('nodeId')} must be 1-64 characters from A-Z a-z 0-9 _ . : -, got ${JSON.stringify(c.nodeId)}`);
  }
  if (c.metricsToken !== undefined && (typeof c.metricsToken !== 'string' || !/^\S{16,200}$/.test(c.metricsToken))) {
    throw new ConfigError(`${n('metricsToken')} must be 16-200 characters without spaces`);
  }
  if (c.logLevel !== undefined && !(LOG_LEVELS as readonly unknown[]).includes(c.logLevel)) {
    throw new ConfigError(`${n('logLevel')} must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(c.logLevel)}`);
  }
  if (c.devAppId !== undefined && (typeof c.devAppId !== 'string' || !ID_PATTERN.test(c.devAppId))) {
    throw new ConfigError(`${n('devAppId')} must be 1-64 characters from A-Z a-z 0-9 _ - . @, got ${JSON.stringify(c.devAppId)}`);
  }
  if (c.devAppSecret !== undefined && (typeof c.devAppSecret !== 'string' || c.devAppSecret.length < 8 || c.devAppSecret.length > 200)) {
    throw new ConfigError(`${n('devAppSecret')} must be 8-200 characters`);
  }
  return c;
}

const NUMERIC: ReadonlySet<keyof ServerConfig> = new Set([
  'apiPort',
  'socketPort',
  'tokenTtl',
  'rateLimit',
  'rateBurst',
  'httpRequestTimeout',
  'maxConnectionsPerIp',
  'maxSocketsPerUser',
  'httpRateLimit',
  'httpAuthRateLimit',
  'tokenMaxTtl',
  'groupMaxMembers',
  'revokeWindow',
  'editWindow',
  'presenceGrace',
  'replyMaxBytes',
  'dbPoolSize',
  'uploadMaxBytes',
  'uploadMaxImageBytes',
  'uploadMaxAudioBytes',
  'uploadMaxVideoBytes',
  'uploadTimeout',
  'uploadRate',
  'uploadBurst',
  'uploadOrphanTtl',
  'fileUrlTtl',
]);

/** Switches: 1 or 0 in the environment (anything else is left as it is, for resolveConfig to refuse). */
const FLAGS: ReadonlySet<keyof ServerConfig> = new Set(['webhookAllowPrivate']);

/** Reads IM_* variables; unset or empty ones take the default. Throws ConfigError naming the variable. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const partial: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV_NAMES) as Array<[keyof ServerConfig, string]>) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') continue;
    // Number('') is 0 and Number('0x10') is 16: only plain decimal digits count as numbers here.
    if (FLAGS.has(key)) partial[key] = raw === '1' ? true : raw === '0' ? false : raw;
    else partial[key] = NUMERIC.has(key) ? (/^[0-9]{1,10}$/.test(raw) ? Number(raw) : raw) : raw;
  }
  return resolveConfig(partial as Partial<ServerConfig>, ENV_NAMES);
}
