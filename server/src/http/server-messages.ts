import { ok } from '../errors';
import type { ServerRoutes } from './server-api';
import * as S from './server-schemas';

/** Messages (docs/protocol.md section 8): send as a user or a system account, revoke any, read a private conversation. */
export const serverMessageRoutes: ServerRoutes = (scope, ctx) => {
  const admin = ctx.service.admin;
  const app = (req: Parameters<typeof ctx.operator>[0]) => ctx.operator(req).appId;

  scope.post<{ Body: S.AdminSendBody }>('/api/server/messages', { schema: { body: S.AdminSendBody } }, async (req) =>
    ok(await admin.send(app(req), req.body)),
  );
  scope.post<{ Params: { messageId: string } }>('/api/server/messages/:messageId/revoke', { schema: { params: S.ServerMessageParams } }, async (req) =>
    ok(await admin.revoke(app(req), req.params.messageId)),
  );
  scope.get<{ Params: { userA: string; userB: string }; Querystring: S.ServerHistoryQuery }>(
    '/api/server/private/:userA/:userB/messages',
    { schema: { params: S.ServerPairParams, querystring: S.ServerHistoryQuery } },
    async (req) => ok(await admin.privateHistory(app(req), req.params.userA, req.params.userB, S.historyQuery(req.query), ctx.replyMaxBytes)),
  );
};
