import { ChatType, type ImConversation, type ListPage } from '../core/protocol';
import { describe, invalid, optionalInt, requireId, requireObject } from '../core/validate';
import type { Feature, FeatureContext } from './feature';
import { resolveMessageUrls } from './media';
import { allPages, allPagesOf, pageQuery } from './paging';

/** `fresh` (newer copies) over `list`, most recent first. */
function mergeNewest(list: ImConversation[], fresh: ImConversation[]): ImConversation[] {
  const byId = new Map(list.map((c) => [c.conversationId, c]));
  for (const c of fresh) byId.set(c.conversationId, c);
  return [...byId.values()].sort((a, b) => b.updatedAt - a.updatedAt || a.conversationId.localeCompare(b.conversationId));
}

/** The conversation list, its copy on the device (for rendering before the network), and read marks. */
export class Conversations implements Feature {
  readonly name = 'conversations';
  constructor(private readonly fc: FeatureContext) {}

  /** One page, most recent first; pass `nextCursor` back as `cursor` for the next. */
  page(params: unknown): Promise<ListPage<ImConversation>> {
    const m = 'getConversationListPage';
    const p = requireObject(m, params ?? {}, '{ apiServer, limit, cursor }');
    return this.fc.api.authed<ListPage<ImConversation>>(m, p.apiServer, { method: 'GET', path: '/api/conversations', query: pageQuery(m, p) }).then((page) => {
      this.shown(m, p.apiServer, page?.items);
      return page;
    });
  }

  /** Last messages' media URLs absolute, against the server they came from. */
  private shown(method: string, apiServer: unknown, items: ImConversation[] | undefined): void {
    if (!Array.isArray(items)) return;
    const base = this.fc.api.serverFor(method, apiServer);
    for (const c of items) if (c?.lastMessage) resolveMessageUrls(c.lastMessage, base);
  }

  /** Every page; the whole list is also kept on the device. */
  async list(params: unknown): Promise<ImConversation[]> {
    const m = 'getConversationList';
    const p = requireObject(m, params ?? {}, '{ apiServer }');
    const fetchPage = (cursor: string | undefined) =>
      this.fc.api.authed<ListPage<ImConversation>>(m, p.apiServer, { method: 'GET', path: '/api/conversations', query: { limit: 100, cursor } }).then((page) => {
        this.shown(m, p.apiServer, page?.items);
        return page;
      });
    const pages = await allPages<ImConversation>(fetchPage);
    // Pages follow activity, so a conversation that got a message while later pages were read
    // moved to the front, behind the cursor: the first page again brings it back.
    const list = pages.length > 100 ? mergeNewest(pages, await allPagesOf(fetchPage, 1)) : pages;
    const key = this.fc.keys.current('conversations');
    if (key) {
      this.fc.ctx.adapter.storage.setItem(key, JSON.stringify(list)).catch((err) => this.fc.ctx.log.debug('could not cache conversations', err));
    }
    return list;
  }

  /** The list as last fetched on this device (needs a token, to know whose cache to read). */
  async cached(): Promise<ImConversation[]> {
    const key = this.fc.keys.current('conversations');
    if (!key) return [];
    try {
      const raw = await this.fc.ctx.adapter.storage.getItem(key);
      const list = raw ? (JSON.parse(raw) as unknown) : [];
      return Array.isArray(list) ? (list as ImConversation[]) : [];
    } catch (err) {
      this.fc.ctx.log.debug('could not read cached conversations', err);
      return [];
    }
  }

  markRead(params: unknown): Promise<{ conversationId: string; readSeq: number; unreadCount: number }> {
    const m = 'markConversationRead';
    const p = requireObject(m, params, '{ apiServer, chatType, targetId, seq }');
    if (p.chatType !== ChatType.PRIVATE && p.chatType !== ChatType.GROUP) {
      throw invalid(m, `"chatType" must be 0 (private) or 1 (group), got ${describe(p.chatType)}.`);
    }
    const body: Record<string, unknown> = { chatType: p.chatType, targetId: requireId(m, 'targetId', p.targetId) };
    const seq = optionalInt(m, 'seq', p.seq, 0, Number.MAX_SAFE_INTEGER);
    if (seq !== undefined) body.seq = seq;
    return this.fc.api.authed(m, p.apiServer, { method: 'POST', path: '/api/conversations/read', body });
  }
}
