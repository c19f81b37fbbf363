import type { ListPage } from '../core/protocol';
import { describe, invalid, optionalInt } from '../core/validate';

/** Stops a list that never ends (a server bug) from paging forever. */
const MAX_PAGES = 1000;

/** The query of a paged list call: `limit` 1-500 (default 100) and the previous page's cursor. */
export function pageQuery(method: string, p: Record<string, unknown>): Record<string, string | number | undefined> {
  const limit = optionalInt(method, 'limit', p.limit, 1, 500) ?? 100;
  if (p.cursor !== undefined && p.cursor !== null && (typeof p.cursor !== 'string' || !p.cursor || p.cursor.length > 400)) {
    throw invalid(method, `"cursor" must be the nextCursor of a previous page, got ${describe(p.cursor)}.`);
  }
  return { limit, cursor: (p.cursor as string | null | undefined) ?? undefined };
}

/** Fetches page after page until the last; returns every item in order. */
export function allPages<T>(fetchPage: (cursor: string | undefined) => Promise<ListPage<T>>): Promise<T[]> {
  return allPagesOf(fetchPage, MAX_PAGES);
}

/** The items of at most `maxPages` pages. */
export async function allPagesOf<T>(fetchPage: (cursor: string | undefined) => Promise<ListPage<T>>, maxPages: number): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const page = (await fetchPage(cursor)) as ListPage<T> | T[];
    // A server from before paging answers the whole list as an array.
    if (Array.isArray(page)) return page;
    all.push(...(Array.isArray(page?.items) ? page.items : []));
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return all;
}
