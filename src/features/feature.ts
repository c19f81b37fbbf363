import type { SocketListener } from '../adapter';
import type { Rpc } from '../connection/rpc';
import type { ClientContext } from '../core/context';
import type { ImMessage, MessageEventRow, SessionInfo } from '../core/protocol';
import type { StorageKeys } from '../core/storage-keys';
import type { ApiClient } from '../http/api-client';

/** All a feature may use: it reaches the rest of the client through this and nothing else. */
export interface FeatureContext {
  readonly ctx: ClientContext;
  /** Requests and notifications over the socket. */
  readonly rpc: Rpc;
  /** The HTTP API as the current user. */
  readonly api: ApiClient;
  /** Per-user storage keys. */
  readonly keys: StorageKeys;
  /** The current session, once the server accepted one. */
  session(): SessionInfo | undefined;
  /** Takes a server → client socket event (one owner per event). */
  route(event: string, handler: SocketListener): void;
}

/**
 * A feature is built with a FeatureContext and touches nothing else; the hooks are optional.
 */
export interface Feature {
  /** For logs. */
  readonly name: string;
  /** Caught up after a (re)connect. */
  onReady?(session: SessionInfo): void;
  /** A message was handed to the app (live or caught up). */
  onMessage?(message: ImMessage): void;
  /** This device's own send was stored (its ack): no `imchat` comes for it here. */
  onSent?(message: ImMessage): void;
  /** A revoke or edit reached its turn (live, caught up, or this device's own). */
  onEvent?(row: MessageEventRow): void;
  /** The user is no longer in a group: left it, was removed, or it was dismissed. */
  onGroupLeft?(groupId: string): void;
  /** The connection dropped or ended. */
  onConnectionLost?(): void;
  /** The client is being destroyed: release timers and anything else held. */
  dispose?(): void;
}

/** The client's features, told of lifecycle moments in the order they were added. */
export class Features {
  private readonly list: Feature[] = [];

  add<F extends Feature>(feature: F): F {
    this.list.push(feature);
    return feature;
  }

  ready(session: SessionInfo): void {
    for (const f of this.list) f.onReady?.(session);
  }

  message(m: ImMessage): void {
    for (const f of this.list) f.onMessage?.(m);
  }

  sent(m: ImMessage): void {
    for (const f of this.list) f.onSent?.(m);
  }

  event(row: MessageEventRow): void {
    for (const f of this.list) f.onEvent?.(row);
  }

  groupLeft(groupId: string): void {
    for (const f of this.list) f.onGroupLeft?.(groupId);
  }

  connectionLost(): void {
    for (const f of this.list) f.onConnectionLost?.();
  }

  dispose(): void {
    for (const f of this.list) f.dispose?.();
  }
}
