/** comind-im-server: the reference server for comind-im-client-sdk, and a token helper for your backend. */
export { createImServer } from './server';
export type { ImServer, ImServerOptions, StartedServer } from './server';
export { mintToken, verifyToken } from './auth';
export { verifyWebhookSignature } from './webhooks/signature';
export type { MintTokenOptions, TokenClaims } from './auth';
export { configFromEnv, DEFAULT_CONFIG } from './config';
export type { ServerConfig } from './config';
export type { LogLevel } from './observability/logger';
export type { Metrics, ServerMetrics } from './observability/metrics';
export type { StatsReply, NodeFigures } from './observability/cluster-stats';
export { Code, ApiError } from './errors';
export { SqliteDatabase, SqliteStorage } from './storage/sqlite';
export { StorageError } from './storage/errors';
export type * from './storage/types';
