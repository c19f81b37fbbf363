import { LIMITS } from '../../server/src/protocol/limits';
import type { ImGroup, ImGroupMember } from '../core/protocol';
import { describe, hasVisibleText, invalid, optionalString, requireId, requireObject } from '../core/validate';
import type { Feature, FeatureContext } from './feature';
import { groupPath } from './groups';

/**
 * Group roles and settings over the HTTP API (docs/protocol.md 5.15-5.19). Who may do what is the
 * server's to decide (it reads the roles each time); this checks only the shape of the input.
 */
export class GroupAdmin implements Feature {
  readonly name = 'groupAdmin';
  constructor(private readonly fc: FeatureContext) {}

  private post<T>(method: string, params: unknown, shape: string, path: (p: Record<string, unknown>) => string, body: (p: Record<string, unknown>) => unknown): Promise<T> {
    const p = requireObject(method, params, shape);
    const route = `${groupPath(method, p.groupId)}${path(p)}`;
    return this.fc.api.authed(method, p.apiServer, { method: 'POST', path: route, body: body(p) });
  }

  private static member(method: string, p: Record<string, unknown>): string {
    return `/members/${encodeURIComponent(requireId(method, 'userId', p.userId))}`;
  }

  setRole(params: unknown): Promise<ImGroupMember> {
    const m = 'setGroupMemberRole';
    return this.post(m, params, "{ groupId, userId, role: 'admin' | 'member' }", (p) => `${GroupAdmin.member(m, p)}/role`, (p) => {
      if (p.role !== 'admin' && p.role !== 'member') throw invalid(m, `"role" must be 'admin' or 'member' (hand the group over with transferGroupOwner), got ${describe(p.role)}.`);
      return { role: p.role };
    });
  }

  transferOwner(params: unknown): Promise<ImGroup> {
    const m = 'transferGroupOwner';
    return this.post(m, params, '{ groupId, userId }', () => '/owner', (p) => ({ userId: requireId(m, 'userId', p.userId) }));
  }

  updateInfo(params: unknown): Promise<ImGroup> {
    const m = 'updateGroupInfo';
    return this.post(m, params, '{ groupId, name?, description?, announcement?, avatar? }', () => '/info', (p) => {
      if (p.name !== undefined && (typeof p.name !== 'string' || !hasVisibleText(p.name) || p.name.length > 100)) {
        throw invalid(m, `"name" must be a non-empty string of at most 100 characters, got ${describe(p.name)}.`);
      }
      const body = {
        name: p.name,
        description: optionalString(m, 'description', p.description, 1000),
        announcement: optionalString(m, 'announcement', p.announcement, LIMITS.GROUP_ANNOUNCEMENT_CHARS),
        avatar: optionalString(m, 'avatar', p.avatar, LIMITS.GROUP_AVATAR_CHARS),
      };
      if (Object.values(body).every((v) => v === undefined)) throw invalid(m, 'give at least one of "name", "description", "announcement", "avatar".');
      return body;
    });
  }

  mute(params: unknown): Promise<ImGroupMember> {
    const m = 'muteGroupMember';
    return this.post(m, params, '{ groupId, userId, seconds }', (p) => `${GroupAdmin.member(m, p)}/mute`, (p) => {
      const s = p.seconds;
      if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > LIMITS.GROUP_MUTE_MAX_SECONDS) {
        throw invalid(m, `"seconds" must be an integer from 0 (unmute) to ${LIMITS.GROUP_MUTE_MAX_SECONDS} (30 days), got ${describe(s)}.`);
      }
      return { seconds: s };
    });
  }

  muteAll(params: unknown): Promise<ImGroup> {
    const m = 'muteAllMembers';
    return this.post(m, params, '{ groupId, muted }', () => '/mute-all', (p) => {
      if (typeof p.muted !== 'boolean') throw invalid(m, `"muted" must be true or false, got ${describe(p.muted)}.`);
      return { muted: p.muted };
    });
  }
}
