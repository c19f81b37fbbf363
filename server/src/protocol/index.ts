/** The protocol constants shared by the server and the SDK's source (docs/protocol.md). */
export * from './codes';
export * from './limits';
export * from './conversations';
