import { TokenManager } from './auth/token-manager';
import { ImError } from './core/errors';
import { Connection } from './connection/connection';
import { ClientContext } from './core/context';
import type { ImClientOptions } from './core/options';
import { SocketEvent, type ImMessage } from './core/protocol';
import { StorageKeys } from './core/storage-keys';
import { Conversations } from './features/conversations';
import { Features, type FeatureContext } from './features/feature';
import { Groups } from './features/groups';
import { GroupAdmin } from './features/group-admin';
import { GroupReceipts } from './features/group-receipts';
import { History } from './features/history';
import { Media, resolveMessageUrls } from './features/media';
import { MessageActions } from './features/message-actions';
import { Presence } from './features/presence';
import { Receipts } from './features/receipts';
import { Signals } from './features/signals';
import { Users } from './features/users';
import { ApiClient } from './http/api-client';
import { Messenger } from './messaging/messenger';
import { Router } from './messaging/router';
import { Synchronizer } from './sync/synchronizer';

/** The client's feature modules, one per area of the API. */
export interface FeatureSet {
  receipts: Receipts;
  groups: Groups;
  users: Users;
  history: History;
  conversations: Conversations;
  media: Media;
  signals: Signals;
  actions: MessageActions;
  groupAdmin: GroupAdmin;
  presence: Presence;
  groupReceipts: GroupReceipts;
}

/** What an ImClient is made of; the façade holds these and delegates to them. */
export interface ClientParts {
  ctx: ClientContext;
  auth: TokenManager;
  connection: Connection;
  sync: Synchronizer;
  messenger: Messenger;
  features: Features;
  f: FeatureSet;
}

/**
 * Builds the modules of one client and wires them together: who hears of a session, a drop, an
 * end; which module owns each server event. The only place that knows them all.
 */
export function assembleClient(options: ImClientOptions): ClientParts {
  const ctx = new ClientContext(options);
  const features = new Features();
  const router = new Router(ctx.log);
  // The modules refer to each other in both directions; the closures below run only after all exist.
  // eslint-disable-next-line prefer-const
  let connection!: Connection;
  let sync!: Synchronizer;
  let messenger!: Messenger;
  let f!: FeatureSet;
  const auth = new TokenManager(ctx, {
    isActive: () => connection.active,
    renew: (token) => connection.pushToken(token),
    reconnect: () => connection.retry(),
    end: (code, reason, why, error) => connection.stop(code, reason, why, error),
  });
  router.route(SocketEvent.TOKEN_WILL_EXPIRE, (info) => auth.onWillExpire(info));
  router.route(SocketEvent.TOKEN_EXPIRED, (info) => auth.onExpired(info));
  connection = new Connection(ctx, auth, router, {
    session: (session) => void sync.start(session),
    lost: () => {
      sync.lost();
      messenger.connectionLost();
      features.connectionLost();
    },
    ended: (code, reason) => {
      messenger.failAll(code, reason);
      // failAll() persisted at once if it rejected anything; this covers acks still waiting
      // for the write delay, and leaves no timer behind destroy().
      messenger.persistPending();
    },
    gaveUp: (code, reason) => messenger.failAll(code, reason),
    background: () => messenger.persistPending(),
  });
  const keys = new StorageKeys(() => connection.session, () => auth.user());
  const api = new ApiClient(ctx, auth, () => {
    if (connection.destroyed) throw destroyedError();
  });
  const present = (m: ImMessage) => resolveMessageUrls(m, api.base());
  messenger = new Messenger(ctx, connection, keys, () => sync.ready, (m) => {
    sync.acceptOwn(m);
    features.sent(present(m));
  }, present);
  sync = new Synchronizer(ctx, connection, {
    restore: () => messenger.restore(),
    claim: (m) => messenger.claim(m, connection.session?.userId),
    caughtUp: (session) => {
      messenger.emitPending();
      features.ready(session);
      ctx.events.emit('ready', session);
    },
    delivered: (m) => features.message(m),
    present,
    event: (row) => features.event(row),
  });
  router.route(SocketEvent.IMCHAT, (m) => sync.onLive(m));
  const fc: FeatureContext = {
    ctx,
    rpc: connection.rpc,
    api,
    keys,
    session: () => connection.session,
    route: (event, handler) => router.route(event, handler),
  };
  f = {
    receipts: features.add(new Receipts(fc)),
    groups: features.add(new Groups(fc, (groupId) => features.groupLeft(groupId))),
    users: features.add(new Users(fc, auth)),
    history: features.add(new History(fc)),
    conversations: features.add(new Conversations(fc)),
    signals: features.add(new Signals(fc)),
    actions: features.add(new MessageActions(fc, (row) => {
      sync.acceptOwn(row);
      features.event(row);
    }, present)),
    groupAdmin: features.add(new GroupAdmin(fc)),
    presence: features.add(new Presence(fc)),
    groupReceipts: features.add(new GroupReceipts(fc)),
    media: features.add(new Media(fc, (method, chatType, params, target) => messenger.send(method, chatType, params, target), (method) => messenger.assertCanSend(method))),
  };
  return { ctx, auth, connection, sync, messenger, features, f };
}

export function destroyedError(): ImError {
  return new ImError('E_DESTROYED', 'This ImClient was destroyed; create a new one.');
}
