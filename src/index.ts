/** Core entry: `ImClient` and its types, without any platform adapter registered. */
import { ImClient } from './client';

export { ImClient };
export default ImClient;
export { ImError, isImError } from './errors';
export type { ImErrorCode } from './errors';
export { registerAdapter, detectAdapter } from './adapter-registry';
export { ChatType, MsgType, ReceiptStatus, SocketEvent } from './protocol';
export type * from './protocol';
export type * from './adapter';
export type { ImClientEvents, ConnectionStatus } from './events';
export type { ImClientOptions } from './options';
export type { ImLogger, LogLevel } from './logger';
