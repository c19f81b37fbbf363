import { ok } from '../errors';
import type { ServerRoutes } from './server-api';
import * as S from './server-schemas';

/** The app's groups (docs/protocol.md section 8): list, one group, its members, dismiss, its history. */
export const serverGroupRoutes: ServerRoutes = (scope, ctx) => {
  const admin = ctx.service.admin;
  const app = (req: Parameters<typeof ctx.operator>[0]) => ctx.operator(req).appId;

  scope.get<{ Querystring: S.ServerSearchQuery }>('/api/server/groups', { schema: { querystring: S.ServerSearchQuery } }, async (req) =>
    ok(await admin.groups(app(req), S.listQuery(req.query))),
  );
  scope.get<{ Params: { groupId: string } }>('/api/server/groups/:groupId', { schema: { params: S.ServerGroupParams } }, async (req) =>
    ok(await admin.group(app(req), req.params.groupId)),
  );
  scope.get<{ Params: { groupId: string }; Querystring: S.ServerListQuery }>(
    '/api/server/groups/:groupId/members',
    { schema: { params: S.ServerGroupParams, querystring: S.ServerListQuery } },
    async (req) => {
      const { limit, cursor } = S.listQuery(req.query);
      return ok(await admin.members(app(req), req.params.groupId, { limit, cursor }));
    },
  );
  scope.post<{ Params: { groupId: string } }>('/api/server/groups/:groupId/dismiss', { schema: { params: S.ServerGroupParams } }, async (req) =>
    ok(await admin.dismiss(app(req), req.params.groupId)),
  );
  scope.get<{ Params: { groupId: string }; Querystring: S.ServerHistoryQuery }>(
    '/api/server/groups/:groupId/messages',
    { schema: { params: S.ServerGroupParams, querystring: S.ServerHistoryQuery } },
    async (req) => ok(await admin.groupHistory(app(req), req.params.groupId, S.historyQuery(req.query), ctx.replyMaxBytes)),
  );
};
