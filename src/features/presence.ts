import { LIMITS } from '../../server/src/protocol/limits';
import { SocketEvent, type ImPresence, type SessionInfo } from '../core/protocol';
import { describe, invalid, requireId, requireObject } from '../core/validate';
import type { Feature, FeatureContext } from './feature';

function userIdsOf(method: string, params: unknown): string[] {
  const ids = requireObject(method, params, '{ userIds }').userIds;
  if (!Array.isArray(ids) || ids.length > LIMITS.PRESENCE_IDS) {
    throw invalid(method, `"userIds" must be an array of at most ${LIMITS.PRESENCE_IDS} user ids, got ${Array.isArray(ids) ? `${ids.length}` : describe(ids)}.`);
  }
  for (const id of ids) requireId(method, 'userIds[]', id);
  return ids as string[];
}

/** A followed user: what is known of them, and the number of the last event that told it. */
interface Followed {
  p?: ImPresence;
  at: number;
}

/**
 * Presence of other users. The server keeps subscriptions per connection, so this module keeps
 * the followed set and subscribes it again after every reconnect, telling the app (`presence`)
 * of each user whose state changed while the connection was away.
 */
export class Presence implements Feature {
  readonly name = 'presence';
  private readonly followed = new Map<string, Followed>();
  /** Whose set `followed` is (app and user of the session it was followed in). */
  private owner: string | undefined;
  private events = 0;

  constructor(private readonly fc: FeatureContext) {
    fc.route(SocketEvent.PRESENCE, (p: ImPresence) => {
      const f = this.followed.get(p?.userId);
      if (!f) return; // unsubscribed meanwhile
      f.at = ++this.events;
      this.learn(f, p, true);
    });
  }

  /** Follows the users; resolves with their presence now. */
  subscribe(params: unknown): Promise<ImPresence[]> {
    return this.follow(userIdsOf('subscribePresence', params), false);
  }

  async unsubscribe(params: unknown): Promise<void> {
    const m = 'unsubscribePresence';
    const ids = userIdsOf(m, params);
    for (const id of ids) this.followed.delete(id);
    // Not connected: nothing to end, the server's subscriptions ended with the connection.
    if (this.fc.rpc.connected) await this.fc.rpc.request(SocketEvent.PRESENCE_UNSUBSCRIBE, { userIds: ids }, m);
  }

  async get(params: unknown): Promise<ImPresence[]> {
    const m = 'getPresence';
    return (await this.fc.rpc.request<{ presence: ImPresence[] }>(SocketEvent.PRESENCE_GET, { userIds: userIdsOf(m, params) }, m)).presence;
  }

  onReady(session: SessionInfo): void {
    this.ownedBy(session);
    const ids = [...this.followed.keys()];
    for (let i = 0; i < ids.length; i += LIMITS.PRESENCE_IDS) {
      this.follow(ids.slice(i, i + LIMITS.PRESENCE_IDS), true).catch((err) => this.fc.ctx.log.warn('subscribing presence again after the reconnect failed', err));
    }
  }

  /** Another user on this client: what the previous one followed is not theirs to follow. */
  private ownedBy(session: SessionInfo | undefined): void {
    const who = session && `${session.appId}\u0000${session.userId}`;
    if (!who || who === this.owner) return;
    this.followed.clear();
    this.owner = who;
  }

  private async follow(ids: string[], again: boolean): Promise<ImPresence[]> {
    const m = 'subscribePresence';
    this.ownedBy(this.fc.session());
    const start = this.events;
    const added = ids.filter((id) => !this.followed.has(id));
    // Followed before the answer: the server joins first, so an event that comes before the
    // answer is newer than it.
    for (const id of added) this.followed.set(id, { at: 0 });
    let answer: ImPresence[];
    try {
      // After a reconnect the catch-up shares the rate budget: wait it out rather than fail.
      const rpc = this.fc.rpc;
      const payload = { userIds: ids };
      answer = (await (again ? rpc.patiently<{ presence: ImPresence[] }>(SocketEvent.PRESENCE_SUBSCRIBE, payload, m) : rpc.request<{ presence: ImPresence[] }>(SocketEvent.PRESENCE_SUBSCRIBE, payload, m))).presence;
    } catch (err) {
      for (const id of added) this.followed.delete(id);
      throw err;
    }
    return answer.map((p) => {
      const f = this.followed.get(p.userId);
      if (!f) return p;
      if (f.at <= start) this.learn(f, p, again);
      return f.p ?? p;
    });
  }

  /** Records what is known of a user; tells the app when it is news. */
  private learn(f: Followed, p: ImPresence, tell: boolean): void {
    const was = f.p;
    f.p = { userId: p.userId, online: p.online === true, lastSeenAt: typeof p.lastSeenAt === 'number' ? p.lastSeenAt : null };
    if (tell && (!was || was.online !== f.p.online || was.lastSeenAt !== f.p.lastSeenAt)) this.fc.ctx.events.emit('presence', f.p);
  }

  dispose(): void {
    this.followed.clear();
  }
}
