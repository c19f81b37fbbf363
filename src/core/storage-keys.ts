import type { SessionInfo } from './protocol';

/** What the SDK keeps on the device, per app and user. */
export type StoredThing = 'inboxSeq' | 'groupSeqs' | 'outbox' | 'conversations' | 'drafts';

/** Keys are per app and user, so two accounts on one device never read each other's state. */
export function keyFor(appId: string, userId: string, what: StoredThing): string {
  return `comind-im:v1:${appId}:${userId}:${what}`;
}

/** The user a token names, as far as the device can tell without verifying it. */
export interface TokenUser {
  app: string;
  sub: string;
}

/**
 * The storage key of something for the current user: from the session once there is one, else
 * from the token's claims, so caches work before the socket is up.
 */
export class StorageKeys {
  constructor(
    private readonly session: () => SessionInfo | undefined,
    private readonly tokenUser: () => TokenUser | undefined,
  ) {}

  current(what: StoredThing): string | undefined {
    const s = this.session();
    if (s?.appId && s.userId) return keyFor(s.appId, s.userId, what);
    const user = this.tokenUser();
    return user ? keyFor(user.app, user.sub, what) : undefined;
  }
}
