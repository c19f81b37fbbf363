import type { ConnectionStatus } from '../core/events';
import type { SessionInfo } from '../core/protocol';

/**
 * Every state a client's connection can be in. `session` exists only in `online`, so "connected
 * but no session" and "session but no socket" cannot be represented.
 */
export type ConnectionState =
  /** No socket: never connected, or ended by disconnect(), a kick, a refused token or expiry. */
  | { name: 'idle' }
  /** connect() created the socket; the first attempt is under way. */
  | { name: 'connecting' }
  /** The transport is up; the server has not yet sent the session. */
  | { name: 'connected' }
  /** The server accepted the session (catch-up runs, then `ready`). */
  | { name: 'online'; session: SessionInfo }
  /** The connection dropped; socket.io's backoff or a forced attempt is bringing it back. */
  | { name: 'reconnecting' }
  /** Reconnection gave up; the socket is kept for connect(), network return or app show. */
  | { name: 'suspended' }
  | { name: 'destroyed' };

export type StateName = ConnectionState['name'];

/**
 * Which state may follow which; anything else is a bug, reported by `transition()`. `connecting`
 * after a live state is connect() to another server.
 */
export const TRANSITIONS: Record<StateName, readonly StateName[]> = {
  idle: ['connecting', 'destroyed'],
  connecting: ['connected', 'reconnecting', 'suspended', 'idle', 'destroyed'],
  connected: ['online', 'reconnecting', 'suspended', 'connecting', 'idle', 'destroyed'],
  online: ['online', 'reconnecting', 'suspended', 'connecting', 'idle', 'destroyed'],
  reconnecting: ['connected', 'suspended', 'connecting', 'idle', 'destroyed'],
  suspended: ['connecting', 'connected', 'reconnecting', 'idle', 'destroyed'],
  destroyed: [],
};

/** The `status` the public API reports for each state. */
export const STATUS_OF: Record<StateName, ConnectionStatus> = {
  idle: 'disconnected',
  connecting: 'connecting',
  connected: 'connected',
  online: 'connected',
  reconnecting: 'reconnecting',
  suspended: 'disconnected',
  destroyed: 'disconnected',
};

/** Between connect() and the end of the session: sends are queued, the reconnect policy runs. */
export function isActive(state: ConnectionState): boolean {
  return state.name !== 'idle' && state.name !== 'destroyed';
}
