import type { ImMessage } from '../core/protocol';
import { describe, invalid, optionalInt, requireId, requireObject } from '../core/validate';
import type { Feature, FeatureContext } from './feature';
import { groupPath } from './groups';
import { resolveMessageUrls } from './media';

export interface HistoryQuery {
  apiServer?: string;
  limitSize?: number;
  msgSeqId?: number;
  syncType?: 'BACK' | 'FORWARD';
  detailType?: number;
}

function historyQuery(method: string, p: Record<string, unknown>): Record<string, string | number | undefined> {
  const syncType = p.syncType ?? 'BACK';
  if (syncType !== 'BACK' && syncType !== 'FORWARD') throw invalid(method, `"syncType" must be 'BACK' or 'FORWARD', got ${describe(syncType)}.`);
  return {
    limitSize: optionalInt(method, 'limitSize', p.limitSize, 1, 10000) ?? 20,
    msgSeqId: optionalInt(method, 'msgSeqId', p.msgSeqId, 0, Number.MAX_SAFE_INTEGER) ?? 0,
    syncType,
    detailType: optionalInt(method, 'detailType', p.detailType, 0, 0),
  };
}

/** Conversation history, paged by `seq`. */
export class History implements Feature {
  readonly name = 'history';
  constructor(private readonly fc: FeatureContext) {}

  group(params: unknown): Promise<ImMessage[]> {
    const m = 'getGroupHistoryMessages';
    const p = requireObject(m, params, '{ apiServer, groupId, limitSize, msgSeqId, syncType }');
    return this.shown(m, p.apiServer, this.fc.api.authed(m, p.apiServer, { method: 'GET', path: `${groupPath(m, p.groupId)}/messages`, query: historyQuery(m, p) }));
  }

  withPeer(params: unknown): Promise<ImMessage[]> {
    const m = 'getPrivateHistoryMessages';
    const p = requireObject(m, params, '{ apiServer, peerId, limitSize, msgSeqId, syncType }');
    const peer = requireId(m, 'peerId', p.peerId);
    return this.shown(m, p.apiServer, this.fc.api.authed(m, p.apiServer, { method: 'GET', path: `/api/private/${encodeURIComponent(peer)}/messages`, query: historyQuery(m, p) }));
  }

  /** Media URLs absolute, against the server the page came from. */
  private async shown(method: string, apiServer: unknown, page: Promise<ImMessage[]>): Promise<ImMessage[]> {
    const messages = await page;
    const base = this.fc.api.serverFor(method, apiServer);
    if (Array.isArray(messages)) for (const msg of messages) resolveMessageUrls(msg, base);
    return messages;
  }
}
