import type { ImGroupMember, ImGroupReadReceipt, ListPage } from '../core/protocol';
import { describe, invalid, requireObject } from '../core/validate';
import { LIMITS } from '../../server/src/protocol/limits';
import type { Feature, FeatureContext } from './feature';
import { groupPath } from './groups';
import { pageQuery } from './paging';

function messageId(method: string, field: string, value: unknown): string {
  if (typeof value !== 'string' || !value || value.length > 64) throw invalid(method, `"${field}" must be the messageId of a group message, got ${describe(value)}.`);
  return value;
}

/**
 * Group read receipts over the HTTP API: the server counts them from the members' read positions,
 * which read receipts and markConversationRead move; nothing is kept on the device.
 */
export class GroupReceipts implements Feature {
  readonly name = 'group-receipts';
  constructor(private readonly fc: FeatureContext) {}

  counts(params: unknown): Promise<ImGroupReadReceipt[]> {
    const m = 'getGroupMessageReadReceipts';
    const p = requireObject(m, params, '{ groupId, messageIds }');
    const path = `${groupPath(m, p.groupId)}/read-receipts`;
    const ids = p.messageIds;
    if (!Array.isArray(ids) || !ids.length || ids.length > LIMITS.READ_RECEIPT_IDS_MAX) {
      throw invalid(m, `"messageIds" must be an array of 1 to ${LIMITS.READ_RECEIPT_IDS_MAX} message ids, got ${describe(ids)}.`);
    }
    const body = { messageIds: ids.map((id, i) => messageId(m, `messageIds[${i}]`, id)) };
    return this.fc.api.authed(m, p.apiServer, { method: 'POST', path, body });
  }

  members(params: unknown): Promise<ListPage<ImGroupMember>> {
    const m = 'getGroupMessageReadMembers';
    const p = requireObject(m, params, "{ groupId, messageId, filter: 'read' | 'unread', cursor?, limit? }");
    const path = `${groupPath(m, p.groupId)}/messages/${encodeURIComponent(messageId(m, 'messageId', p.messageId))}/read-members`;
    if (p.filter !== 'read' && p.filter !== 'unread') throw invalid(m, `"filter" must be 'read' or 'unread', got ${describe(p.filter)}.`);
    return this.fc.api.authed(m, p.apiServer, { method: 'GET', path, query: { filter: p.filter, ...pageQuery(m, p) } });
  }
}
