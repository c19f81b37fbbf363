import { newMessageId } from '../storage/message-ids';
import { ApiError, Code } from '../errors';
import { GROUP_NOTICE_MSG_TYPE, LIMITS, hasNul, hasUnpairedSurrogate, hasVisibleText } from '../protocol';
import type { Caller, Group, Notifier } from '../service';
import { GuardFailed } from '../storage/errors';
import type { ChangeGuard, GroupRecord, GroupRole, GroupSettingChange, MemberRecord, SendRequest, Storage, StoredMessage } from '../storage/types';

/** What `group:changed` says (docs/protocol.md 6.9); the action's own fields are in the notice's data too. */
export interface GroupChangeEvent {
  groupId: string;
  action: string;
  userIds: string[];
  by: string;
  timestamp: number;
  /** role_changed */
  role?: 'admin' | 'member';
  /** member_muted: 0 and 0 when unmuted. */
  seconds?: number;
  mutedUntil?: number;
  /** mute_all */
  muted?: boolean;
  /** info_updated: the fields that changed, with their new values. */
  changes?: InfoPatch;
}

export interface InfoPatch {
  name?: string;
  description?: string;
  announcement?: string;
  avatar?: string;
}

type Membership = MemberRecord & { joinedSeq: number };

/** A notice names at most this many of its users in `data.names` (the first ones of `userIds`). */
const NOTICE_NAMES_MAX = 20;
/** …and its sentence at most this many; "and N others" for the rest. */
const SENTENCE_NAMES_MAX = 3;

/**
 * Whether `actor` may act on a member whose role is `target` (remove them, mute them, revoke their
 * messages): the owner on anyone but the owner, an admin on plain members (and on former members,
 * `undefined`) only.
 */
export function outranks(actor: GroupRole | undefined, target: GroupRole | undefined): boolean {
  if (actor === 'owner') return target !== 'owner';
  return actor === 'admin' && target !== 'owner' && target !== 'admin';
}

const ROLES: readonly GroupRole[] = ['owner', 'admin', 'member'];

/**
 * What a rights check found, for storage to check again where it writes: `me` still has the role
 * the check saw, and the member acted on (if any) still one `me` outranks.
 */
export function guardOf(me: { userId: string; role: GroupRole }, target?: string): ChangeGuard {
  const guard: ChangeGuard = { actor: me.userId, roles: [me.role] };
  if (target !== undefined) guard.target = { userId: target, roles: ROLES.filter((r) => outranks(me.role, r)) };
  return guard;
}

/** Runs a guarded write; a guard that no longer held (a role changed since the check) is 40300. */
export async function underGuard<T>(groupId: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!(err instanceof GuardFailed)) throw err;
    throw new ApiError(Code.FORBIDDEN, `forbidden: your role in group ${groupId}, or that of the member you act on, changed meanwhile; read the members again`);
  }
}

/** Why a member may not send to the group now (their mute, or the group's mute-all), if so. */
export function sendRefusal(group: GroupRecord, me: { role: GroupRole; mutedUntil: number }, now = Date.now()): ApiError | undefined {
  if (me.role === 'owner') return undefined;
  if (me.mutedUntil > now) {
    const left = Math.ceil((me.mutedUntil - now) / 1000);
    return new ApiError(Code.FORBIDDEN, `forbidden: you are muted in group ${group.groupId} until ${new Date(me.mutedUntil).toISOString()} (${left} s from now)`);
  }
  if (group.muteAll && me.role !== 'admin') return new ApiError(Code.FORBIDDEN, `forbidden: group ${group.groupId} is muted: only its owner and admins may send`);
  return undefined;
}

function checkText(field: string, value: string): void {
  if (hasUnpairedSurrogate(value)) throw new ApiError(Code.INVALID_ARGUMENT, `${field}: must be valid Unicode text (it contains an unpaired surrogate)`);
  if (hasNul(value)) throw new ApiError(Code.INVALID_ARGUMENT, `${field}: must not contain U+0000 (NUL)`);
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** 600 → "10 minutes": the largest unit the length is a whole number of. */
export function duration(seconds: number): string {
  if (seconds % 86_400 === 0) return plural(seconds / 86_400, 'day');
  if (seconds % 3600 === 0) return plural(seconds / 3600, 'hour');
  if (seconds % 60 === 0) return plural(seconds / 60, 'minute');
  return plural(seconds, 'second');
}

function nameList(names: string[], total: number): string {
  const shown = names.slice(0, total > SENTENCE_NAMES_MAX ? SENTENCE_NAMES_MAX - 1 : SENTENCE_NAMES_MAX);
  const rest = total - shown.length;
  if (rest > 0) return `${shown.join(', ')} and ${plural(rest, 'other')}`;
  return shown.length > 1 ? `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}` : (shown[0] ?? '');
}

const FIELD_NAMES: Record<keyof InfoPatch, string> = { name: 'name', description: 'description', announcement: 'announcement', avatar: 'avatar' };

/** The English sentence of a notice ("Alice made Bob an admin"), from the actor's and the users' names. */
export function noticeText(e: GroupChangeEvent, byName: string, names: string[]): string {
  const who = nameList(names, e.userIds.length);
  switch (e.action) {
    case 'members_added':
      return `${byName} added ${who}`;
    case 'member_removed':
      return `${byName} removed ${who}`;
    case 'member_left':
      return `${byName} left the group`;
    case 'role_changed':
      return e.role === 'admin' ? `${byName} made ${who} an admin` : `${byName} removed ${who} as an admin`;
    case 'owner_transferred':
      return `${byName} made ${who} the group owner`;
    case 'member_muted':
      return e.seconds ? `${byName} muted ${who} for ${duration(e.seconds)}` : `${byName} unmuted ${who}`;
    case 'mute_all':
      return e.muted ? `${byName} muted all members` : `${byName} unmuted all members`;
    case 'info_updated': {
      const fields = Object.keys(e.changes ?? {}) as Array<keyof InfoPatch>;
      if (fields.length === 1 && fields[0] === 'name') return `${byName} renamed the group to "${e.changes!.name}"`;
      return `${byName} changed the group ${nameList(fields.map((f) => FIELD_NAMES[f]), fields.length)}`;
    }
    default:
      return `${byName} changed the group`;
  }
}

/**
 * Group roles (owner, admin, member), settings (name, description, announcement, avatar,
 * mute-all), member mutes, and the notifications of every change: `group:changed` to the members
 * and a notice, a stored group message of msgType 1001, in the group's history. Every check reads
 * the database, so a role taken away on another node counts at once.
 */
export class GroupAdmin {
  constructor(
    private readonly storage: Storage,
    private readonly notifier: Notifier,
  ) {}

  /** The group and the caller's membership in it: 40400 for no such group, 40300 for a non-member. */
  async membership(caller: Caller, groupId: string): Promise<{ group: GroupRecord; me: Membership }> {
    const group = await this.storage.getGroup(caller.appId, groupId);
    if (!group) throw new ApiError(Code.NOT_FOUND, `group ${groupId} not found`);
    const me = await this.storage.member(caller.appId, groupId, caller.userId);
    if (!me) throw new ApiError(Code.FORBIDDEN, `forbidden: you are not a member of group ${groupId}`);
    return { group, me };
  }

  private async target(caller: Caller, groupId: string, userId: string): Promise<Membership> {
    const member = await this.storage.member(caller.appId, groupId, userId);
    if (!member) throw new ApiError(Code.NOT_FOUND, `user ${userId} is not a member of group ${groupId}`);
    return member;
  }

  private static staff(me: Membership, groupId: string, what: string): void {
    if (me.role === 'member') throw new ApiError(Code.FORBIDDEN, `forbidden: only the owner or an admin of group ${groupId} can ${what}`);
  }

  private static owner(me: Membership, groupId: string, what: string): void {
    if (me.role !== 'owner') throw new ApiError(Code.FORBIDDEN, `forbidden: only the owner of group ${groupId} can ${what}`);
  }

  /**
   * The owner or an admin; an admin removes plain members only, and nobody removes the owner.
   * Answers the guard for the removal (the roles seen here must still hold where it is written).
   * Like every check here: the named user not a member (40400) before the rights (40300); any
   * member may list the members, so that order tells nobody anything new.
   */
  async checkRemove(caller: Caller, groupId: string, userId: string): Promise<ChangeGuard> {
    const { me } = await this.membership(caller, groupId);
    const target = await this.target(caller, groupId, userId);
    GroupAdmin.staff(me, groupId, 'remove members');
    if (target.role === 'owner') throw new ApiError(Code.FORBIDDEN, 'forbidden: the owner cannot be removed; dismiss the group instead');
    if (!outranks(me.role, target.role)) throw new ApiError(Code.FORBIDDEN, `forbidden: an admin can remove members only, not another admin (${userId})`);
    return guardOf(me, userId);
  }

  /** Owner only: a member becomes an admin, or an admin a member again. */
  async setRole(caller: Caller, groupId: string, userId: string, role: 'admin' | 'member'): Promise<MemberRecord> {
    const { me } = await this.membership(caller, groupId);
    const target = await this.target(caller, groupId, userId);
    GroupAdmin.owner(me, groupId, 'change roles');
    if (userId === caller.userId) throw new ApiError(Code.FORBIDDEN, "forbidden: the owner's role changes only by transferGroupOwner (POST /api/groups/:groupId/owner)");
    if (target.role !== role) await this.change(caller, groupId, { kind: 'role', userId, role }, { action: 'role_changed', userIds: [userId], role }, guardOf(me));
    return this.publicMember(caller, groupId, userId);
  }

  /**
   * Owner only, to a member; the old owner stays in the group as a plain member. Needs no guard:
   * the write itself requires the caller to be the owner still (40900 otherwise).
   */
  async transferOwner(caller: Caller, groupId: string, userId: string): Promise<Group> {
    const { me } = await this.membership(caller, groupId);
    await this.target(caller, groupId, userId);
    GroupAdmin.owner(me, groupId, 'transfer it');
    if (userId === caller.userId) throw new ApiError(Code.INVALID_ARGUMENT, `userId: you already own group ${groupId}; name the member to hand it to`);
    const done = await this.change(caller, groupId, { kind: 'owner', from: caller.userId, to: userId }, { action: 'owner_transferred', userIds: [userId] });
    if (!done) throw new ApiError(Code.CONFLICT, `group ${groupId} changed meanwhile (its owner or its members); read it again and retry`);
    return this.info(caller, groupId);
  }

  /**
   * Name, description and avatar: the owner; the announcement: the owner or an admin. Only the
   * fields that differ from what the group has count (a form may send them all).
   */
  async updateInfo(caller: Caller, groupId: string, patch: InfoPatch): Promise<Group> {
    const fields = (Object.keys(FIELD_NAMES) as Array<keyof InfoPatch>).filter((f) => patch[f] !== undefined);
    if (!fields.length) throw new ApiError(Code.INVALID_ARGUMENT, 'body: give at least one of name, description, announcement, avatar');
    for (const f of fields) checkText(f, patch[f]!);
    if (patch.name !== undefined && !hasVisibleText(patch.name)) throw new ApiError(Code.INVALID_ARGUMENT, 'name: must contain a visible character');
    const { group, me } = await this.membership(caller, groupId);
    const changes: InfoPatch = {};
    for (const f of fields) if (patch[f] !== group[f]) changes[f] = patch[f];
    const changed = Object.keys(changes) as Array<keyof InfoPatch>;
    // Rights by what changes; a request that changes nothing needs the rights of what it names.
    const owners = (changed.length ? changed : fields).filter((f) => f !== 'announcement');
    if (owners.length) GroupAdmin.owner(me, groupId, `change its ${owners.join(', ')} (admins may change the announcement)`);
    else GroupAdmin.staff(me, groupId, 'change the announcement');
    if (changed.length) await this.change(caller, groupId, { kind: 'info', ...changes }, { action: 'info_updated', userIds: [], changes }, guardOf(me));
    return this.info(caller, groupId);
  }

  /**
   * Mutes a member for `seconds` (0 unmutes): the owner anyone but themselves, an admin plain
   * members. A muted member's group sends are refused (40300) until it ends.
   */
  async muteMember(caller: Caller, groupId: string, userId: string, seconds: number): Promise<MemberRecord> {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > LIMITS.GROUP_MUTE_MAX_SECONDS) {
      throw new ApiError(Code.INVALID_ARGUMENT, `seconds: must be an integer from 0 (unmute) to ${LIMITS.GROUP_MUTE_MAX_SECONDS} (30 days)`);
    }
    const { me } = await this.membership(caller, groupId);
    const target = await this.target(caller, groupId, userId);
    GroupAdmin.staff(me, groupId, 'mute members');
    if (target.role === 'owner') throw new ApiError(Code.FORBIDDEN, 'forbidden: the owner cannot be muted');
    if (!outranks(me.role, target.role)) throw new ApiError(Code.FORBIDDEN, `forbidden: an admin can mute members only, not an admin (${userId})`);
    if (seconds > 0 || target.mutedUntil > 0) {
      const mutedUntil = seconds > 0 ? Date.now() + seconds * 1000 : 0;
      await this.change(caller, groupId, { kind: 'mute', userId, mutedUntil }, { action: 'member_muted', userIds: [userId], seconds, mutedUntil }, guardOf(me, userId));
    }
    return this.publicMember(caller, groupId, userId);
  }

  /** The owner or an admin: while on, only they may send. */
  async muteAll(caller: Caller, groupId: string, muted: boolean): Promise<Group> {
    const { group, me } = await this.membership(caller, groupId);
    GroupAdmin.staff(me, groupId, 'mute all members');
    if (group.muteAll !== muted) await this.change(caller, groupId, { kind: 'muteAll', muted }, { action: 'mute_all', userIds: [], muted }, guardOf(me));
    return this.info(caller, groupId);
  }

  /**
   * Tells the members (and `alsoTo`, e.g. a removed member) of a change made elsewhere (members
   * added, removed, left): `group:changed`, and with `notice` its notice message, stored after
   * the change.
   */
  async changed(caller: Caller, groupId: string, action: string, userIds: string[], opts: { notice: boolean; alsoTo?: string[] }): Promise<void> {
    const event = { action, userIds };
    let notice: StoredMessage | undefined;
    if (opts.notice) {
      const [outcome] = await this.storage.sendMessages([await this.noticeRequest(caller, groupId, event)]);
      if (!outcome?.result) throw outcome?.error ?? new Error('storing the group notice failed');
      notice = outcome.result.message;
    }
    await this.publish(caller, groupId, event, notice, opts.alsoTo);
  }

  /** A role or setting change with its notice, in one transaction (with `guard` checked in it); false when it took no effect. */
  private async change(caller: Caller, groupId: string, change: GroupSettingChange, event: Omit<GroupChangeEvent, 'groupId' | 'by' | 'timestamp'>, guard?: ChangeGuard): Promise<boolean> {
    const notice = await this.noticeRequest(caller, groupId, event);
    const stored = await underGuard(groupId, () => this.storage.changeGroup(caller.appId, groupId, change, notice, guard));
    if (!stored) return false;
    await this.publish(caller, groupId, event, stored.message);
    return true;
  }

  private async publish(caller: Caller, groupId: string, event: Omit<GroupChangeEvent, 'groupId' | 'by' | 'timestamp'>, notice: StoredMessage | undefined, alsoTo: string[] = []): Promise<void> {
    const members = await this.storage.memberIds(caller.appId, groupId);
    const change: GroupChangeEvent = { groupId, ...event, by: caller.userId, timestamp: notice?.timestamp ?? Date.now() };
    this.notifier.groupChanged(caller.appId, [...new Set([...members, ...alsoTo])], change);
    if (notice) this.notifier.groupNotice(caller.appId, members, notice);
  }

  /** The notice of a change: from the actor, an English sentence, and what apps render it from in `data`. */
  private async noticeRequest(caller: Caller, groupId: string, event: Omit<GroupChangeEvent, 'groupId' | 'by' | 'timestamp'>): Promise<SendRequest> {
    const nameOf = async (id: string) => (await this.storage.getUser(caller.appId, id))?.userName ?? id;
    const byName = await nameOf(caller.userId);
    const named = event.userIds.slice(0, NOTICE_NAMES_MAX);
    const names: Record<string, string> = {};
    for (const id of named) names[id] = await nameOf(id);
    const content = noticeText({ groupId, by: caller.userId, timestamp: 0, ...event }, byName, named.map((id) => names[id]!));
    const data = { ...event, by: caller.userId, byName, names };
    return {
      appId: caller.appId,
      // ':' is outside the pattern clients' ids follow, so no client id can collide with it.
      msg: { clientMsgId: `notice:${newMessageId()}`, from: caller.userId, fromName: byName, to: groupId, chatType: 1, msgType: GROUP_NOTICE_MSG_TYPE, content, data },
      recipients: [],
    };
  }

  private async info(caller: Caller, groupId: string): Promise<Group> {
    const group = await this.storage.getGroup(caller.appId, groupId);
    if (!group) throw new ApiError(Code.NOT_FOUND, `group ${groupId} not found`);
    return { id: group.groupId, ...group };
  }

  private async publicMember(caller: Caller, groupId: string, userId: string): Promise<MemberRecord> {
    const { joinedSeq: _joined, ...member } = await this.target(caller, groupId, userId);
    return member;
  }
}
