import { ok } from '../errors';
import type { ServerRoutes } from './server-api';
import * as S from './server-schemas';

/** The app's users (docs/protocol.md section 8): search, sessions, disable and enable, import, conversations. */
export const serverUserRoutes: ServerRoutes = (scope, ctx) => {
  const admin = ctx.service.admin;
  const app = (req: Parameters<typeof ctx.operator>[0]) => ctx.operator(req).appId;

  scope.get<{ Querystring: S.ServerSearchQuery }>('/api/server/users', { schema: { querystring: S.ServerSearchQuery } }, async (req) =>
    ok(await admin.users(app(req), S.listQuery(req.query))),
  );
  scope.post<{ Body: S.ImportBody }>('/api/server/users/import', { bodyLimit: S.IMPORT_BODY_LIMIT, schema: { body: S.ImportBody } }, async (req) =>
    ok(await admin.importUsers(app(req), req.body.users)),
  );
  scope.get<{ Params: { userId: string } }>('/api/server/users/:userId', { schema: { params: S.ServerUserParams } }, async (req) =>
    ok(await admin.user(app(req), req.params.userId)),
  );
  scope.post<{ Params: { userId: string } }>('/api/server/users/:userId/disable', { schema: { params: S.ServerUserParams } }, async (req) =>
    ok(await admin.disable(app(req), req.params.userId)),
  );
  scope.post<{ Params: { userId: string } }>('/api/server/users/:userId/enable', { schema: { params: S.ServerUserParams } }, async (req) =>
    ok(await admin.enable(app(req), req.params.userId)),
  );
  scope.get<{ Params: { userId: string }; Querystring: S.ServerListQuery }>(
    '/api/server/users/:userId/conversations',
    { schema: { params: S.ServerUserParams, querystring: S.ServerListQuery } },
    async (req) => {
      const { limit, cursor } = S.listQuery(req.query);
      return ok(await admin.conversations(app(req), req.params.userId, { limit, cursor }));
    },
  );
};
