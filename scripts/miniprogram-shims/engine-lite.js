// engine.io-client for the mini-program bundle: the socket with no built-in transports (their
// browser and Node code is dead weight there); the weapp adapter passes its SocketTask transport.
export { Socket } from 'engine.io-client/build/esm/socket.js';
export { Transport, TransportError } from 'engine.io-client/build/esm/transport.js';
export { installTimerFunctions } from 'engine.io-client/build/esm/util.js';
export { parse } from 'engine.io-client/build/esm/contrib/parseuri.js';
export { nextTick } from './engine-globals.js';
export { transports } from './engine-transports.js';
// socket.io-client re-exports these; nothing in the mini-program bundle uses them.
export const Fetch = undefined;
export const NodeXHR = undefined;
export const XHR = undefined;
export const NodeWebSocket = undefined;
export const WebSocket = undefined;
export const WebTransport = undefined;
