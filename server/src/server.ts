import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DiskStore } from './files/file-store';
import { FileService } from './files/file-service';
import { S3Store } from './files/s3-store';
import { createServer, type Server as HttpServer } from 'node:http';
import { guardHttpServer, guardedServerOptions } from './net/connection-guard';
import type { AddressInfo } from 'node:net';
import { ConfigError, ID_PATTERN, devWebhookEvents, resolveConfig, webhookDestinations, type ServerConfig } from './config';
import { buildApi } from './http/api';
import { Gateway } from './realtime/gateway';
import { limitsRedisClient, RedisUserLimits } from './realtime/redis-user-limits';
import { LocalUserLimits, type RateBucket } from './realtime/user-limits';
import type { Redis } from 'ioredis';
import { ImService } from './service';
import { PostgresStorage } from './storage/postgres';
import { SqliteStorage } from './storage/sqlite';
import type { Storage } from './storage/types';
import type { DestinationStream } from 'pino';
import { createLogger, defaultNodeId, serverLog, type LogLevel, type ServerLog } from './observability/logger';
import { ServerMetrics } from './observability/metrics';
import { ClusterStats } from './observability/cluster-stats';
import { webhookStoreFor } from './webhooks/open-store';
import { Webhooks, type WebhookSettings } from './webhooks/webhooks';

export interface ImServerOptions extends Partial<ServerConfig> {
  /**
   * JSON log lines (pino, docs/operations.md): true at `logLevel` (default info), or a level and a
   * destination stream. Unset: on only when `logLevel` is given; off, errors alone reach the
   * console as plain lines.
   */
  logger?: boolean | { level?: LogLevel; destination?: DestinationStream };
  /** Further apps to create or update at start (tests, multi-tenant setups). */
  extraApps?: Array<{ appId: string; appSecret: string }>;
  /** Serve Socket.IO on the API port (implied when both ports are the same non-zero number). */
  singlePort?: boolean;
  /** A storage other than SQLite in `dataDir`. */
  storage?: Storage;
  /** ms an Engine.IO handshake has to complete the namespace connect (default 10 s; for tests). */
  socketConnectTimeoutMs?: number;
  /** Webhook delivery settings: retry delays, polling, timeouts, caps (docs/webhooks.md; tests shorten them). */
  webhooks?: WebhookSettings;
}

export interface StartedServer {
  apiUrl: string;
  socketUrl: string;
  apiPort: number;
  socketPort: number;
}

export interface ImServer {
  /** The development app; known once `start()` has resolved. */
  readonly devApp: { appId: string; appSecret: string };
  readonly storage: Storage;
  readonly service: ImService;
  /** Uploads, media fields and signed downloads (docs/media.md). */
  readonly files: FileService;
  /** This node's name in metrics, logs and the cluster figures. */
  readonly nodeId: string;
  /** GET /metrics's figures; `webhookCall` is the webhooks' counter. */
  readonly metrics: ServerMetrics;
  start(): Promise<StartedServer>;
  /** Graceful: refuse new work, close sockets and HTTP, then close the database. */
  stop(): Promise<void>;
}

/** The notifier the service calls, with group changes also queued for the apps' groupChanged webhooks. */
function withGroupWebhooks(gateway: Gateway, webhooks: Webhooks): Gateway {
  return new Proxy(gateway, {
    get(target, key) {
      if (key === 'groupChanged') {
        return (appId: string, userIds: string[], change: Parameters<Gateway['groupChanged']>[2]) => {
          target.groupChanged(appId, userIds, change);
          webhooks.groupChanged(appId, change);
        };
      }
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** What `logger` and `logLevel` ask for: a level and a destination, or undefined for no JSON log. */
function loggingOf(option: ImServerOptions['logger'], level: LogLevel | undefined): { level: LogLevel; destination?: DestinationStream } | undefined {
  if (option === false) return undefined;
  if (option === true) return { level: level ?? 'info' };
  if (option && typeof option === 'object') return { level: option.level ?? level ?? 'info', destination: option.destination };
  return level ? { level } : undefined;
}

/** Tokens are HS256 keyed by the app secret: a generated one has the hash's full 256 bits. */
function generatedSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Engine.IO long-polls wait up to its ping interval (25 s) in silence: idle limits must exceed it. */
const SOCKET_IDLE_TIMEOUT_MS = 60_000;

async function ensureDevApp(storage: Storage, config: ServerConfig): Promise<{ appId: string; appSecret: string }> {
  if (config.devAppId) {
    const secret = config.devAppSecret ?? (await storage.getApp(config.devAppId))?.appSecret ?? generatedSecret();
    await storage.upsertApp(config.devAppId, secret);
    await storage.setDevApp(config.devAppId);
    return { appId: config.devAppId, appSecret: secret };
  }
  const existing = await storage.getDevApp();
  if (existing) {
    if (config.devAppSecret && config.devAppSecret !== existing.appSecret) await storage.upsertApp(existing.appId, config.devAppSecret);
    return { appId: existing.appId, appSecret: config.devAppSecret ?? existing.appSecret };
  }
  const appId = `dev_${randomBytes(6).toString('hex')}`;
  const appSecret = config.devAppSecret ?? generatedSecret();
  await storage.upsertApp(appId, appSecret);
  await storage.setDevApp(appId);
  return { appId, appSecret };
}

/** A node waits this long for Redis at start; after it, it starts with per-node limits until Redis is up. */
const REDIS_START_WAIT_MS = 5_000;

function whenReady(redis: Redis, ms: number, log: (level: 'warn', msg: string) => void): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(() => {
      log('warn', `redis not ready after ${ms} ms: limits are per node until it is`);
      done();
    }, ms);
    redis.once('ready', done);
  });
}

/** Each user's upload kilobytes: in Redis with IM_REDIS_URL (shared by the nodes), else per node. */
function uploadBudget(config: ServerConfig, redis: Redis | undefined, log: (level: 'warn', msg: string, err?: unknown) => void): (user: string) => RateBucket {
  const limits = redis ? new RedisUserLimits(redis, config.uploadRate, config.uploadBurst, 1, log, 'upload') : new LocalUserLimits(config.uploadRate, config.uploadBurst, 1);
  return (user) => limits.bucket(user);
}

/**
 * Where uploads live on disk: `<dataDir>/files`, and `<dataDir>/tmp` for uploads in progress (the
 * same disk, so storing one is a rename). An in-memory database gets a temp dir, removed at stop.
 */
function fileArea(config: ServerConfig): { files: string; tmp: string; owned?: string } {
  if (config.dataDir === ':memory:') {
    const dir = mkdtempSync(path.join(tmpdir(), 'comind-im-files-'));
    return { files: path.join(dir, 'files'), tmp: path.join(dir, 'tmp'), owned: dir };
  }
  return { files: path.join(config.dataDir, 'files'), tmp: path.join(config.dataDir, 'tmp') };
}

function listen(server: HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** The reference IM server: HTTP API and Socket.IO, on two ports or one (`socketPort === apiPort`). */
export function createImServer(options: ImServerOptions = {}): ImServer {
  const config: ServerConfig = resolveConfig(options);
  for (const app of options.extraApps ?? []) {
    if (typeof app?.appId !== 'string' || !ID_PATTERN.test(app.appId) || typeof app.appSecret !== 'string' || app.appSecret.length === 0) {
      throw new ConfigError('extraApps: each app needs an appId of 1-64 characters from A-Z a-z 0-9 _ - . @ and a non-empty appSecret');
    }
  }
  // SQLite opens at once; PostgreSQL connects (and migrates) in start(). Until then the service
  // sees a storage that says it is not open.
  const nodeId = config.nodeId ?? defaultNodeId();
  const metrics = new ServerMetrics(nodeId);
  const logging = loggingOf(options.logger, config.logLevel);
  const logger = logging && createLogger(logging.level, nodeId, logging.destination);
  const log: ServerLog = logger
    ? serverLog(logger)
    : (level, msg, err) => {
        if (level === 'error') console.error(`[comind-im-server] ${msg}`, err ?? '');
      };
  let opened: Storage | undefined =
    options.storage ?? (config.databaseUrl ? undefined : new SqliteStorage(config.dataDir, { durability: config.durability, metrics, warn: (m) => log('warn', m) }));
  const deferred = new Proxy({} as Storage, {
    get(_target, key) {
      if (!opened) throw new Error('storage is not open: call start() first');
      const value = (opened as unknown as Record<string | symbol, unknown>)[key];
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(opened) : value;
    },
  });
  const storage = opened ?? deferred;
  let devApp: { appId: string; appSecret: string } | undefined;

  const limitsRedis = config.redisUrl ? limitsRedisClient(config.redisUrl, log) : undefined;
  const webhooks = new Webhooks(options.webhooks ?? {}, log, webhookDestinations(config));
  webhooks.metrics = metrics;
  const gateway = new Gateway({
    nodeId,
    metrics,
    onPresence: (appId, info) => webhooks.presence(appId, info),
    limitsRedis,
    sessionPolicy: config.sessionPolicy,
    rateLimit: config.rateLimit,
    rateBurst: config.rateBurst,
    maxSocketsPerUser: config.maxSocketsPerUser,
    maxConnectionsPerIp: config.maxConnectionsPerIp,
    replyMaxBytes: config.replyMaxBytes,
    presenceGraceMs: config.presenceGrace * 1000,
    connectTimeoutMs: options.socketConnectTimeoutMs,
    redisUrl: config.redisUrl,
    log,
  });
  const media = fileArea(config);
  const files = new FileService(storage, {
    store: config.fileDriver === 's3'
      ? new S3Store({ endpoint: config.s3Endpoint, region: config.s3Region, bucket: config.s3Bucket!, accessKeyId: config.s3AccessKeyId!, secretAccessKey: config.s3SecretAccessKey!, prefix: config.s3Prefix })
      : new DiskStore(media.files),
    tmpDir: media.tmp,
    limits: { maxBytes: config.uploadMaxBytes, image: config.uploadMaxImageBytes, audio: config.uploadMaxAudioBytes, video: config.uploadMaxVideoBytes },
    urlTtlSeconds: config.fileUrlTtl,
    budget: uploadBudget(config, limitsRedis, log),
    publicUrl: config.publicUrl?.replace(/\/+$/, '') ?? '',
  });
  const service = new ImService(storage, { tokenTtl: config.tokenTtl, tokenMaxTtl: config.tokenMaxTtl, groupMaxMembers: config.groupMaxMembers, revokeWindow: config.revokeWindow, editWindow: config.editWindow, metrics }, withGroupWebhooks(gateway, webhooks), files);
  service.webhooks = webhooks;
  let shuttingDown = false;
  const singlePort = options.singlePort ?? (config.socketPort === config.apiPort && config.apiPort !== 0);
  const requestTimeoutMs = config.httpRequestTimeout * 1000;
  const cluster = new ClusterStats({ nodeId, startedAt: metrics.startedAt, connections: () => metrics.socketCount, messagesPerSec: () => metrics.messagesPerSec() }, limitsRedis, log);
  const api = buildApi(service, {
    logger: logger ?? false,
    observability: { metrics, endpoint: { render: () => metrics.render(), contentType: metrics.contentType, token: config.metricsToken }, stats: () => cluster.read() },
    isShuttingDown: () => shuttingDown,
    requestTimeoutMs,
    // Past the request timeout, so a stalled request is answered 408 rather than cut silently.
    idleTimeoutMs: singlePort ? SOCKET_IDLE_TIMEOUT_MS : requestTimeoutMs + 5000,
    maxConnectionsPerIp: config.maxConnectionsPerIp,
    httpRateLimit: config.httpRateLimit,
    httpAuthRateLimit: config.httpAuthRateLimit,
    replyMaxBytes: config.replyMaxBytes,
    limitsRedis,
    files,
    uploadTimeoutMs: config.uploadTimeout * 1000,
  });
  let socketHttp: HttpServer | undefined;
  let sweeper: ReturnType<typeof setInterval> | undefined;
  let started = false;
  let stopped = false;

  return {
    get devApp() {
      if (!devApp) throw new Error('devApp is known once start() has resolved');
      return devApp;
    },
    get storage() {
      if (!opened) throw new Error('storage is not open: call start() first');
      return opened;
    },
    service,
    nodeId,
    metrics,
    files,
    async start() {
      if (started) throw new Error('server already started');
      started = true;
      if (!opened && config.databaseUrl) opened = await PostgresStorage.open({ url: config.databaseUrl, poolSize: config.dbPoolSize, metrics });
      if (limitsRedis) await whenReady(limitsRedis, REDIS_START_WAIT_MS, log);
      mkdirSync(media.tmp, { recursive: true });
      // Uploads no message took: swept a few times per orphan lifetime (at most hourly).
      const sweepEvery = Math.min(config.uploadOrphanTtl * 250, 3_600_000);
      sweeper = setInterval(() => {
        files.sweepUnattached(config.uploadOrphanTtl * 1000).catch((err: unknown) => log('warn', 'sweeping unsent uploads failed', err));
      }, sweepEvery);
      sweeper.unref();
      devApp = await ensureDevApp(storage, config);
      for (const app of options.extraApps ?? []) await storage.upsertApp(app.appId, app.appSecret);
      webhooks.open(webhookStoreFor(opened!), (appId, from, clientMsgId) => storage.findByClientId(appId, from, clientMsgId));
      if (config.webhookUrl && webhooks.available) {
        await webhooks.putConfig(devApp.appId, { url: config.webhookUrl, secret: config.webhookSecret, events: devWebhookEvents(config) }, { resolve: false });
        // A name that leads only where calls are refused is worth a warning, not a failed start.
        const url = config.webhookUrl;
        void webhooks.destinationWarning(url).then((w) => w && log('warn', `IM_WEBHOOK_URL ${url}: ${w.replace(/^url: /, '')}`));
      }
      await api.listen({ port: config.apiPort, host: config.host });
      cluster.start();
      const apiPort = (api.server.address() as AddressInfo).port;
      let socketPort = apiPort;
      if (singlePort) {
        gateway.attach(api.server, service);
      } else {
        socketHttp = createServer(guardedServerOptions, (_req, res) => {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ code: 40400, message: 'this port serves Socket.IO only; the HTTP API is on the API port' }));
        });
        guardHttpServer(socketHttp, { maxConnectionsPerIp: config.maxConnectionsPerIp, requestTimeoutMs, idleTimeoutMs: SOCKET_IDLE_TIMEOUT_MS });
        gateway.attach(socketHttp, service);
        socketPort = await listen(socketHttp, config.socketPort, config.host);
      }
      const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
      return { apiUrl: `http://${host}:${apiPort}`, socketUrl: `http://${host}:${socketPort}`, apiPort, socketPort };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      shuttingDown = true;
      gateway.beginShutdown();
      // Every acknowledged send is already committed (the commit precedes the ack), so closing
      // connections now loses nothing; unacknowledged sends are retried by clients.
      if (started) {
        await gateway.close();
        await api.close().catch(() => undefined);
      }
      // After the last sends were stored (their afterSend queued); before the database closes.
      await webhooks.stop();
      if (sweeper) clearInterval(sweeper);
      await cluster.close();
      metrics.close();
      limitsRedis?.disconnect();
      await files.close().catch(() => undefined);
      if (media.owned) rmSync(media.owned, { recursive: true, force: true });
      await opened?.close();
    },
  };
}
