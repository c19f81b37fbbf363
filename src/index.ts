/** Core entry: `ImClient` and its types, without any platform adapter registered. */
import { ImClient } from './client';

export { ImClient };
export default ImClient;
export type { SendParams, HistoryQuery } from './client';
export { ImError, isImError } from './core/errors';
export type { ImErrorCode } from './core/errors';
export { registerAdapter, detectAdapter } from './core/adapter-registry';
export { ChatType, MsgType, ReceiptStatus, SocketEvent } from './core/protocol';
export type * from './core/protocol';
export type * from './adapter';
export type { ImClientEvents, ConnectionStatus } from './core/events';
export type { ImClientOptions } from './core/options';
export type { ImLogger, LogLevel } from './core/logger';
