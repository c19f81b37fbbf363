import cors from '@fastify/cors';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { verifyToken } from '../auth';
import { ApiError, Code, fail, ok } from '../errors';
import * as S from '../schemas';
import type { Caller, HistoryQuery, ImService } from '../service';

export interface ApiOptions {
  logger: boolean;
  /** Lets the gateway refuse new work while the server shuts down. */
  isShuttingDown: () => boolean;
}

function history(q: S.HistoryQuery): HistoryQuery {
  return {
    limitSize: q.limitSize === undefined ? 20 : Math.max(1, Number(q.limitSize)),
    msgSeqId: q.msgSeqId === undefined ? 0 : Number(q.msgSeqId),
    syncType: q.syncType ?? 'BACK',
  };
}

/** The HTTP API of docs/protocol.md section 5, on fastify with JSON-schema validation. */
export function buildApi(service: ImService, opts: ApiOptions): FastifyInstance {
  const app = Fastify({
    logger: opts.logger,
    bodyLimit: 256 * 1024,
    // Bodies are checked as sent: "1" is not a number. Query strings are plain strings by schema.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    // secure-json-parse (fastify's default) rejects __proto__ and constructor.prototype keys.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Errors raised before routing (a malformed %-escape, a path parameter over 100 characters)
    // and HTTP-level client errors (headers over Node's 16 KB) answered in fastify's own JSON
    // shape, not the envelope; found by test/reliability/fuzz.test.ts.
    frameworkErrors: (err, _req, reply) => {
      const api = new ApiError(Code.INVALID_ARGUMENT, `bad request: ${err.message}`);
      // A framework error's reply has no route schema, so its generic send() type does not narrow.
      void (reply as unknown as { code(c: number): { send(b: unknown): unknown } }).code(api.httpStatus).send(fail(api));
    },
    clientErrorHandler: (err: Error & { code?: string }, socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const what = err.code === 'HPE_HEADER_OVERFLOW' ? 'request headers too large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request timed out' : 'malformed HTTP request';
      const body = JSON.stringify(fail(new ApiError(Code.INVALID_ARGUMENT, `bad request: ${what}`)));
      if (socket.writable) {
        socket.write(`HTTP/1.1 400 Bad Request\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
      }
      socket.destroy(err);
    },
  });
  void app.register(cors, { origin: '*', methods: ['GET', 'POST', 'DELETE', 'OPTIONS'], allowedHeaders: ['content-type', 'authorization', 'accept'] });

  app.setErrorHandler((err: Error & { validation?: unknown; statusCode?: number; code?: string; validationContext?: string }, _req, reply) => {
    let api: ApiError;
    if (err instanceof ApiError) api = err;
    else if (err.validation) api = new ApiError(Code.INVALID_ARGUMENT, `${err.validationContext ?? 'request'}: ${err.message.replace(/^(body|querystring|params)\/?/, '')}`);
    else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') api = new ApiError(Code.PAYLOAD_TOO_LARGE, 'request body too large');
    else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) api = new ApiError(Code.INVALID_ARGUMENT, `bad request: ${err.message}`);
    else {
      app.log.error(err);
      api = new ApiError(Code.INTERNAL, 'internal error');
    }
    void reply.status(api.httpStatus).send(fail(api));
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send(fail(new ApiError(Code.NOT_FOUND, `no route ${req.method} ${req.url.split('?')[0]}`)));
  });
  app.addHook('onRequest', async (req) => {
    if (opts.isShuttingDown() && req.url !== '/health') throw new ApiError(Code.SHUTTING_DOWN, 'server shutting down: retry shortly');
  });

  const caller = (req: FastifyRequest): Caller => {
    const header = req.headers.authorization;
    const token = typeof header === 'string' && /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, '') : undefined;
    const claims = verifyToken(service.storage, token);
    service.activeUser(claims.app, claims.sub);
    return { appId: claims.app, userId: claims.sub };
  };

  app.get('/health', async () => ok({ status: 'ready', version: '1' }));

  app.post<{ Body: S.TokenBody }>('/api/token', { schema: { body: S.TokenBody } }, async (req) => {
    const b = req.body;
    return ok(service.issueToken(b.appId, b.appSecret, b.userId, b.userName));
  });

  app.post<{ Body: S.RegisterBody }>('/api/users', { schema: { body: S.RegisterBody } }, async (req) => {
    const { appId, appSecret, userId, ...patch } = req.body;
    return ok(service.registerUser(appId, appSecret, userId, patch));
  });

  app.get<{ Params: { userId: string } }>('/api/users/:userId', { schema: { params: S.UserParams } }, async (req) =>
    ok(service.getUser(caller(req), req.params.userId)),
  );

  app.post<{ Body: S.CreateGroupBody }>('/api/groups', { schema: { body: S.CreateGroupBody } }, async (req) => ok(service.createGroup(caller(req), req.body)));
  app.get('/api/groups', async (req) => ok(service.listGroups(caller(req))));
  app.get<{ Params: { groupId: string } }>('/api/groups/:groupId', { schema: { params: S.GroupParams } }, async (req) =>
    ok(service.groupInfo(caller(req), req.params.groupId)),
  );
  app.delete<{ Params: { groupId: string } }>('/api/groups/:groupId', { schema: { params: S.GroupParams } }, async (req) =>
    ok(service.dismissGroup(caller(req), req.params.groupId)),
  );
  app.get<{ Params: { groupId: string } }>('/api/groups/:groupId/members', { schema: { params: S.GroupParams } }, async (req) =>
    ok(service.groupMembers(caller(req), req.params.groupId)),
  );
  app.post<{ Params: { groupId: string }; Body: S.MembersBody }>(
    '/api/groups/:groupId/members',
    { schema: { params: S.GroupParams, body: S.MembersBody } },
    async (req) => ok(service.addMembers(caller(req), req.params.groupId, req.body.userIdList)),
  );
  app.delete<{ Params: { groupId: string; userId: string } }>(
    '/api/groups/:groupId/members/:userId',
    { schema: { params: S.GroupMemberParams } },
    async (req) => ok(service.removeMember(caller(req), req.params.groupId, req.params.userId)),
  );
  app.post<{ Params: { groupId: string } }>('/api/groups/:groupId/leave', { schema: { params: S.GroupParams } }, async (req) =>
    ok(service.leaveGroup(caller(req), req.params.groupId)),
  );
  app.get<{ Params: { groupId: string }; Querystring: S.HistoryQuery }>(
    '/api/groups/:groupId/messages',
    { schema: { params: S.GroupParams, querystring: S.HistoryQuery } },
    async (req) => ok(service.groupHistory(caller(req), req.params.groupId, history(req.query))),
  );
  app.get<{ Params: { peerId: string }; Querystring: S.HistoryQuery }>(
    '/api/private/:peerId/messages',
    { schema: { params: S.PeerParams, querystring: S.HistoryQuery } },
    async (req) => ok(service.privateHistory(caller(req), req.params.peerId, history(req.query))),
  );
  app.get('/api/conversations', async (req) => ok(service.conversations(caller(req))));
  app.post<{ Body: S.MarkReadBody }>('/api/conversations/read', { schema: { body: S.MarkReadBody } }, async (req) =>
    ok(service.markRead(caller(req), req.body.chatType, req.body.targetId, req.body.seq)),
  );
  return app;
}
