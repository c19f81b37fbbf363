import type { ImGroup, ImGroupChange, ImGroupMember, ListPage } from '../core/protocol';
import { SocketEvent } from '../core/protocol';
import { describe, hasVisibleText, invalid, optionalString, requireId, requireObject } from '../core/validate';
import type { Feature, FeatureContext } from './feature';
import { allPages, pageQuery } from './paging';

/** A list of user ids as the server takes it: at most 500. */
export function idList(method: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.length > 500) {
    throw invalid(method, `"userIdList" must be an array of at most 500 user ids, got ${describe(value)}.`);
  }
  return value.map((id, i) => requireId(method, `userIdList[${i}]`, id));
}

export function groupPath(method: string, groupId: unknown): string {
  return `/api/groups/${encodeURIComponent(requireId(method, 'groupId', groupId))}`;
}

/**
 * Groups over the HTTP API; `group:changed` from the server becomes `groupChanged`. `left` hears
 * of every group the user is no longer in (so the other features, the conversation list among
 * them, let go of it): from the server's event, and from this device's own leave or dismissal as
 * soon as the server answered, event or not.
 */
export class Groups implements Feature {
  readonly name = 'groups';
  constructor(
    private readonly fc: FeatureContext,
    private readonly left: (groupId: string) => void,
  ) {
    fc.route(SocketEvent.GROUP_CHANGED, (c: ImGroupChange) => {
      fc.ctx.events.emit('groupChanged', c);
      if (c && typeof c.groupId === 'string' && this.excludesMe(c)) left(c.groupId);
    });
  }

  private excludesMe(c: ImGroupChange): boolean {
    if (c.action === 'dismissed') return true;
    const me = this.fc.session()?.userId;
    return (c.action === 'member_left' || c.action === 'member_removed') && me !== undefined && Array.isArray(c.userIds) && c.userIds.includes(me);
  }

  create(params: unknown): Promise<ImGroup> {
    const m = 'createGroup';
    const p = requireObject(m, params, '{ apiServer, name, description, userIdList }');
    if (typeof p.name !== 'string' || !hasVisibleText(p.name) || p.name.length > 100) {
      throw invalid(m, `"name" must be a non-empty string of at most 100 characters, got ${describe(p.name)}.`);
    }
    const body: Record<string, unknown> = { name: p.name, userIdList: idList(m, p.userIdList ?? []) };
    const description = optionalString(m, 'description', p.description, 1000);
    if (description !== undefined) body.description = description;
    if (p.groupId !== undefined) body.groupId = requireId(m, 'groupId', p.groupId);
    return this.fc.api.authed(m, p.apiServer, { method: 'POST', path: '/api/groups', body });
  }

  /** Every page of the caller's groups, newest first. */
  list(params: unknown): Promise<ImGroup[]> {
    const p = requireObject('getGroupList', params ?? {}, '{ apiServer }');
    return allPages<ImGroup>((cursor) => this.fc.api.authed('getGroupList', p.apiServer, { method: 'GET', path: '/api/groups', query: { limit: 100, cursor } }));
  }

  page(params: unknown): Promise<ListPage<ImGroup>> {
    const m = 'getGroupListPage';
    const p = requireObject(m, params ?? {}, '{ apiServer, limit, cursor }');
    return this.fc.api.authed(m, p.apiServer, { method: 'GET', path: '/api/groups', query: pageQuery(m, p) });
  }

  info(params: unknown): Promise<ImGroup> {
    const p = requireObject('getGroupInfo', params, '{ apiServer, groupId }');
    return this.fc.api.authed('getGroupInfo', p.apiServer, { method: 'GET', path: groupPath('getGroupInfo', p.groupId) });
  }

  members(params: unknown): Promise<ImGroupMember[]> {
    const p = requireObject('getGroupMembers', params, '{ apiServer, groupId }');
    return this.fc.api.authed('getGroupMembers', p.apiServer, { method: 'GET', path: `${groupPath('getGroupMembers', p.groupId)}/members` });
  }

  addMembers(params: unknown): Promise<ImGroupMember[]> {
    const m = 'addGroupMembers';
    const p = requireObject(m, params, '{ apiServer, groupId, userIdList }');
    const path = `${groupPath(m, p.groupId)}/members`;
    const list = idList(m, p.userIdList);
    if (!list.length) throw invalid(m, '"userIdList" must name at least one user.');
    return this.fc.api.authed(m, p.apiServer, { method: 'POST', path, body: { userIdList: list } });
  }

  removeMember(params: unknown): Promise<ImGroupMember[]> {
    const m = 'removeGroupMember';
    const p = requireObject(m, params, '{ apiServer, groupId, userId }');
    // The POST form of DELETE /members/:userId: some platforms' HTTP APIs send GET and POST only.
    const path = `${groupPath(m, p.groupId)}/members/${encodeURIComponent(requireId(m, 'userId', p.userId))}/remove`;
    return this.fc.api.authed(m, p.apiServer, { method: 'POST', path });
  }

  leave(params: unknown): Promise<{ groupId: string }> {
    const p = requireObject('leaveGroup', params, '{ apiServer, groupId }');
    const path = `${groupPath('leaveGroup', p.groupId)}/leave`;
    return this.fc.api.authed<{ groupId: string }>('leaveGroup', p.apiServer, { method: 'POST', path }).then((r) => this.gone(p.groupId as string, r));
  }

  dismiss(params: unknown): Promise<{ groupId: string }> {
    const p = requireObject('dismissGroup', params, '{ apiServer, groupId }');
    const path = `${groupPath('dismissGroup', p.groupId)}/dismiss`;
    return this.fc.api.authed<{ groupId: string }>('dismissGroup', p.apiServer, { method: 'POST', path }).then((r) => this.gone(p.groupId as string, r));
  }

  private gone<T>(groupId: string, answer: T): T {
    this.left(groupId);
    return answer;
  }
}
