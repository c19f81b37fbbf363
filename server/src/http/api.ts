import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import type { Socket } from 'node:net';
import type { FileService } from '../files/file-service';
import { downloadRoutes, uploadRoutes } from './files';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { createServer } from 'node:http';
import { guardHttpServer, guardedServerOptions } from '../net/connection-guard';
import { ApiError, Code, fail, ok } from '../errors';
import * as S from '../schemas';
import type { Caller, HistoryQuery, ImService, ListPage, ListQuery } from '../service';
import { GroupReceipts } from '../domain/group-receipts';
import { registerServerApi } from './server-api';
import { registerAdminConsole } from './admin-console';
import { SERVER_ROUTES } from './server-routes';
import type { Logger } from 'pino';
import { metricsRoute, observeHttp, type MetricsEndpoint } from './observability';
import { NO_METRICS, type Metrics } from '../observability/metrics';
import { requestId } from '../observability/logger';
import type { StatsReply } from '../observability/cluster-stats';

export interface ApiOptions {
  /** false: no request log; a pino logger: JSON lines with request ids (server/src/observability/logger.ts). */
  logger: boolean | Logger;
  /** Counters of refusals, GET /metrics and the cluster figures of GET /api/server/stats. */
  observability?: { metrics: Metrics; endpoint?: MetricsEndpoint; stats?: () => Promise<StatsReply> };
  /** While true every request is answered 50300, so load balancers and clients move elsewhere. */
  isShuttingDown: () => boolean;
  /** ms a request (headers and body) may take. */
  requestTimeoutMs: number;
  /** ms a connection may stay silent (longer where Socket.IO long-polls on the same port). */
  idleTimeoutMs: number;
  /** Open connections per client address (0: no cap). */
  maxConnectionsPerIp: number;
  /** Requests per user per minute on the authenticated routes. */
  httpRateLimit: number;
  /** Requests per client address per minute on /api/token and /api/users (they take the app secret). */
  httpAuthRateLimit: number;
  /** Bytes of messages in one history reply. */
  replyMaxBytes: number;
  /** Counts the rate limits in Redis, shared by every node (per node without). */
  limitsRedis?: Redis;
  /** Uploads and signed downloads (docs/media.md). */
  files: FileService;
  /** ms an upload (POST /api/files) may take; every other request has requestTimeoutMs. */
  uploadTimeoutMs: number;
}

const MINUTE_MS = 60_000;

/** Answers 408 on the raw socket and closes it: the request never finished arriving. */
function timedOut(socket: Socket): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(fail(new ApiError(Code.INVALID_ARGUMENT, 'bad request: request timed out')));
  if (socket.writable) socket.write(`HTTP/1.1 408 Request Timeout\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
  socket.destroy();
}

/** @fastify/rate-limit's answer, as our envelope (the error handler turns it into a 429). */
function limited(what: string) {
  return (_req: FastifyRequest, ctx: { max: number; after: string }) =>
    new ApiError(Code.RATE_LIMITED, `rate limited: at most ${ctx.max} requests per minute ${what}; retry in ${ctx.after}`);
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
}

const LIST_DEFAULT = 100;
const LIST_MAX = 500;
/** Without `limit` or `cursor` a list answers as before, an array, but of at most this many. */
const LIST_UNPAGED_MAX = 1000;

/**
 * A paged list (`{ items, nextCursor }`) when the caller pages (`limit` or `cursor`); else the
 * array earlier clients expect, bounded.
 */
async function listReply<T>(q: S.ListQuery, page: (q: ListQuery) => Promise<ListPage<T>>): Promise<ListPage<T> | T[]> {
  if (q.limit === undefined && q.cursor === undefined) return (await page({ limit: LIST_UNPAGED_MAX })).items;
  const limit = q.limit === undefined ? LIST_DEFAULT : Number(q.limit);
  if (limit < 1 || limit > LIST_MAX) throw new ApiError(Code.INVALID_ARGUMENT, `limit must be an integer from 1 to ${LIST_MAX}`);
  return page({ limit, cursor: q.cursor });
}

const HISTORY_DEFAULT = 20;
const HISTORY_MAX = 100;

function history(q: S.HistoryQuery): HistoryQuery {
  const limitSize = q.limitSize === undefined ? HISTORY_DEFAULT : Number(q.limitSize);
  if (limitSize < 1) throw new ApiError(Code.INVALID_ARGUMENT, `limitSize must be an integer from 1 to ${HISTORY_MAX} (larger values are capped at ${HISTORY_MAX})`);
  return {
    limitSize: Math.min(limitSize, HISTORY_MAX),
    msgSeqId: q.msgSeqId === undefined ? 0 : Number(q.msgSeqId),
    syncType: q.syncType ?? 'BACK',
  };
}

function errorEnvelope(err: Error & { validation?: unknown; statusCode?: number; code?: string; validationContext?: string }, log: (e: unknown) => void): ApiError {
  if (err instanceof ApiError) return err;
  if (err.validation) {
    // fastify says "body/name must be string"; the envelope says "body: name must be string".
    const detail = err.message.replace(/^(body|querystring|params|headers)\/?/, '').trim();
    return new ApiError(Code.INVALID_ARGUMENT, `${err.validationContext ?? 'request'}: ${detail || 'is invalid'}`);
  }
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ApiError(Code.PAYLOAD_TOO_LARGE, 'request body too large');
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return new ApiError(Code.INVALID_ARGUMENT, `bad request: ${err.message}`);
  log(err);
  return new ApiError(Code.INTERNAL, 'internal error');
}

/** The HTTP API of docs/protocol.md section 5, on fastify with JSON-schema validation. */
export function buildApi(service: ImService, opts: ApiOptions): FastifyInstance {
  // With Redis the counts are shared by every node; if Redis fails a request is let through
  // (skipOnError) rather than refused: the socket limits still apply per node meanwhile.
  const shared = opts.limitsRedis ? { redis: opts.limitsRedis, nameSpace: 'im:http:', skipOnError: true } : {};
  const app = Fastify({
    ...(typeof opts.logger === 'object' ? { loggerInstance: opts.logger as FastifyBaseLogger } : { logger: opts.logger }),
    genReqId: requestId,
    serverFactory: (handler) => {
      const server = createServer(guardedServerOptions, handler);
      // Node's timeout is the longest a request may take (an upload); the others are held to
      // requestTimeoutMs by the hook below.
      const longest = Math.max(opts.requestTimeoutMs, opts.uploadTimeoutMs);
      guardHttpServer(server, { maxConnectionsPerIp: opts.maxConnectionsPerIp, requestTimeoutMs: longest, headersTimeoutMs: opts.requestTimeoutMs, idleTimeoutMs: opts.idleTimeoutMs });
      return server;
    },
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
  void app.register(cors, { origin: '*', methods: ['GET', 'POST', 'DELETE', 'OPTIONS'], allowedHeaders: ['content-type', 'authorization', 'accept', 'x-request-id'], exposedHeaders: ['x-request-id'] });

  // Mini-program and some fetch wrappers send `content-type: application/json` with no body on
  // POST/DELETE; that is "no body", not malformed JSON.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') done(null, undefined);
    else parseJson(req, text, done);
  });

  app.setErrorHandler((err: Error, req, reply) => {
    // The request's own logger: the line carries its reqId.
    const api = errorEnvelope(err, (e) => req.log.error({ err: e }, 'request failed'));
    void reply.status(api.httpStatus).send(fail(api));
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send(fail(new ApiError(Code.NOT_FOUND, `no route ${req.method} ${req.url.split('?')[0]}`)));
  });
  observeHttp(app, opts.observability?.metrics ?? NO_METRICS);
  app.addHook('onRequest', async () => {
    if (opts.isShuttingDown()) throw new ApiError(Code.SHUTTING_DOWN, 'server shutting down: retry shortly');
  });
  // A request other than an upload must have arrived whole within requestTimeoutMs (slow-body
  // clients), as Node's own timeout did before uploads needed a longer one.
  app.addHook('onRequest', async (req) => {
    if (req.method === 'POST' && req.url.split('?')[0] === '/api/files') return;
    const timer = setTimeout(() => timedOut(req.raw.socket), opts.requestTimeoutMs);
    timer.unref();
    (req as unknown as { bodyTimer?: ReturnType<typeof setTimeout> }).bodyTimer = timer;
  });
  app.addHook('preValidation', async (req) => clearTimeout((req as unknown as { bodyTimer?: ReturnType<typeof setTimeout> }).bodyTimer));
  app.addHook('onResponse', async (req) => clearTimeout((req as unknown as { bodyTimer?: ReturnType<typeof setTimeout> }).bodyTimer));

  app.decorateRequest('caller', null);
  // Runs before body/params validation: a request without a valid token learns nothing else.
  const authenticate = async (req: FastifyRequest, _reply: FastifyReply) => {
    const header = req.headers.authorization;
    const token = typeof header === 'string' && /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, '').trim() : undefined;
    if (typeof header === 'string' && header.trim() !== '' && token === undefined) {
      throw new ApiError(Code.TOKEN_INVALID, 'token invalid: the Authorization header must be "Bearer <token>"');
    }
    const claims = await service.verifyToken(token);
    await service.activeUser(claims.app, claims.sub);
    req.caller = { appId: claims.app, userId: claims.sub };
  };
  const who = (req: FastifyRequest): Caller => req.caller!;
  const receipts = new GroupReceipts(service.storage);
  const authed = { onRequest: authenticate };

  app.get('/health', async () => ok({ status: 'ready', version: '1' }));
  if (opts.observability?.endpoint) metricsRoute(app, opts.observability.endpoint);
  downloadRoutes(app, opts.files);
  void app.register(async (scope) => registerAdminConsole(scope));
  void app.register(async (scope) =>
    registerServerApi(scope, service, { authRateLimit: opts.httpAuthRateLimit, rateLimit: opts.httpRateLimit, limitsRedis: opts.limitsRedis, replyMaxBytes: opts.replyMaxBytes, routes: SERVER_ROUTES, stats: opts.observability?.stats }),
  );

  // The app-secret endpoints, limited per client address: guessing a secret is slow here.
  void app.register(async (scope) => {
    await scope.register(rateLimit, { ...shared, max: opts.httpAuthRateLimit, timeWindow: MINUTE_MS, cache: 50_000, errorResponseBuilder: limited('from one address to /api/token and /api/users') });
    scope.post<{ Body: S.TokenBody }>('/api/token', { schema: { body: S.TokenBody } }, async (req) => {
      const b = req.body;
      return ok(await service.issueToken(b.appId, b.appSecret, b.userId, b.userName));
    });

    scope.post<{ Body: S.RegisterBody }>('/api/users', { schema: { body: S.RegisterBody } }, async (req) => {
      const { appId, appSecret, userId, ...patch } = req.body;
      return ok(await service.registerUser(appId, appSecret, userId, patch));
    });
  });

  // Everything a user does, limited per user (after the token check) across these routes.
  void app.register(async (scope) => {
    await scope.register(rateLimit, {
      ...shared,
      max: opts.httpRateLimit,
      timeWindow: MINUTE_MS,
      hook: 'preHandler',
      cache: 50_000,
      keyGenerator: (req) => (req.caller ? `u:${req.caller.appId}:${req.caller.userId}` : `ip:${req.ip}`),
      errorResponseBuilder: limited('per user'),
    });

    scope.get<{ Params: { userId: string } }>('/api/users/:userId', { ...authed, schema: { params: S.UserParams } }, async (req) =>
      ok(await service.getUser(who(req), req.params.userId)),
    );

    scope.post<{ Body: S.CreateGroupBody }>('/api/groups', { ...authed, schema: { body: S.CreateGroupBody } }, async (req) =>
      ok(await service.createGroup(who(req), req.body)),
    );
    scope.get<{ Querystring: S.ListQuery }>('/api/groups', { ...authed, schema: { querystring: S.ListQuery } }, async (req) =>
      ok(await listReply(req.query, (q) => service.listGroups(who(req), q))),
    );
    scope.get<{ Params: { groupId: string } }>('/api/groups/:groupId', { ...authed, schema: { params: S.GroupParams } }, async (req) =>
      ok(await service.groupInfo(who(req), req.params.groupId)),
    );
    // Each DELETE has a POST twin: DingTalk's dd.httpRequest (and Alipay's old my.httpRequest)
    // send GET and POST only, so the SDK uses the POST forms everywhere.
    const dismiss = async (req: { params: { groupId: string } } & Parameters<typeof who>[0]) => ok(await service.dismissGroup(who(req), req.params.groupId));
    scope.delete<{ Params: { groupId: string } }>('/api/groups/:groupId', { ...authed, schema: { params: S.GroupParams } }, dismiss);
    scope.post<{ Params: { groupId: string } }>('/api/groups/:groupId/dismiss', { ...authed, schema: { params: S.GroupParams } }, dismiss);
    scope.get<{ Params: { groupId: string } }>('/api/groups/:groupId/members', { ...authed, schema: { params: S.GroupParams } }, async (req) =>
      ok(await service.groupMembers(who(req), req.params.groupId)),
    );
    scope.post<{ Params: { groupId: string }; Body: S.MembersBody }>(
      '/api/groups/:groupId/members',
      { ...authed, schema: { params: S.GroupParams, body: S.MembersBody } },
      async (req) => ok(await service.addMembers(who(req), req.params.groupId, req.body.userIdList)),
    );
    const remove = async (req: { params: { groupId: string; userId: string } } & Parameters<typeof who>[0]) => ok(await service.removeMember(who(req), req.params.groupId, req.params.userId));
    scope.delete<{ Params: { groupId: string; userId: string } }>('/api/groups/:groupId/members/:userId', { ...authed, schema: { params: S.GroupMemberParams } }, remove);
    scope.post<{ Params: { groupId: string; userId: string } }>('/api/groups/:groupId/members/:userId/remove', { ...authed, schema: { params: S.GroupMemberParams } }, remove);
    scope.post<{ Params: { groupId: string } }>('/api/groups/:groupId/leave', { ...authed, schema: { params: S.GroupParams } }, async (req) =>
      ok(await service.leaveGroup(who(req), req.params.groupId)),
    );
    // Roles and settings (server/src/domain/group-admin.ts): POST throughout, as mini-programs send it.
    const admin = service.groupAdmin;
    scope.post<{ Params: { groupId: string; userId: string }; Body: S.GroupRoleBody }>('/api/groups/:groupId/members/:userId/role', { ...authed, schema: { params: S.GroupMemberParams, body: S.GroupRoleBody } }, async (req) =>
      ok(await admin.setRole(who(req), req.params.groupId, req.params.userId, req.body.role)),
    );
    scope.post<{ Params: { groupId: string; userId: string }; Body: S.GroupMuteBody }>('/api/groups/:groupId/members/:userId/mute', { ...authed, schema: { params: S.GroupMemberParams, body: S.GroupMuteBody } }, async (req) =>
      ok(await admin.muteMember(who(req), req.params.groupId, req.params.userId, req.body.seconds)),
    );
    scope.post<{ Params: { groupId: string }; Body: S.GroupOwnerBody }>('/api/groups/:groupId/owner', { ...authed, schema: { params: S.GroupParams, body: S.GroupOwnerBody } }, async (req) =>
      ok(await admin.transferOwner(who(req), req.params.groupId, req.body.userId)),
    );
    scope.post<{ Params: { groupId: string }; Body: S.GroupInfoBody }>('/api/groups/:groupId/info', { ...authed, schema: { params: S.GroupParams, body: S.GroupInfoBody } }, async (req) =>
      ok(await admin.updateInfo(who(req), req.params.groupId, req.body)),
    );
    scope.post<{ Params: { groupId: string }; Body: S.GroupMuteAllBody }>('/api/groups/:groupId/mute-all', { ...authed, schema: { params: S.GroupParams, body: S.GroupMuteAllBody } }, async (req) =>
      ok(await admin.muteAll(who(req), req.params.groupId, req.body.muted)),
    );
    scope.get<{ Params: { groupId: string }; Querystring: S.HistoryQuery }>(
      '/api/groups/:groupId/messages',
      { ...authed, schema: { params: S.GroupParams, querystring: S.HistoryQuery } },
      async (req) => ok(await service.groupHistory(who(req), req.params.groupId, history(req.query), opts.replyMaxBytes)),
    );
    scope.get<{ Params: { peerId: string }; Querystring: S.HistoryQuery }>(
      '/api/private/:peerId/messages',
      { ...authed, schema: { params: S.PeerParams, querystring: S.HistoryQuery } },
      async (req) => ok(await service.privateHistory(who(req), req.params.peerId, history(req.query), opts.replyMaxBytes)),
    );
    scope.get<{ Querystring: S.ListQuery }>('/api/conversations', { ...authed, schema: { querystring: S.ListQuery } }, async (req) =>
      ok(await listReply(req.query, (q) => service.convs.list(who(req), q))),
    );
    // Conversation management (server/src/conversations.ts); each change reaches every device of the user.
    scope.get('/api/conversations/unread-count', authed, async (req) => ok(await service.convs.totalUnread(who(req))));
    scope.get<{ Params: S.ConversationParams }>('/api/conversations/:conversationId', { ...authed, schema: { params: S.ConversationParams } }, async (req) => {
      const [chatType, targetId] = [Number(req.params.conversationId[0]) as 0 | 1, req.params.conversationId.slice(2)];
      return ok(await service.convs.one(who(req), chatType, targetId));
    });
    scope.post<{ Body: S.PinBody }>('/api/conversations/pin', { ...authed, schema: { body: S.PinBody } }, async (req) =>
      ok(await service.convs.setting(who(req), req.body.chatType, req.body.targetId, 'pinned', req.body.pinned)),
    );
    scope.post<{ Body: S.MuteBody }>('/api/conversations/mute', { ...authed, schema: { body: S.MuteBody } }, async (req) =>
      ok(await service.convs.setting(who(req), req.body.chatType, req.body.targetId, 'muted', req.body.muted)),
    );
    scope.post<{ Body: S.ConversationBody }>('/api/conversations/delete', { ...authed, schema: { body: S.ConversationBody } }, async (req) =>
      ok(await service.convs.remove(who(req), req.body.chatType, req.body.targetId)),
    );
    await uploadRoutes(scope, opts.files, authenticate);
    scope.post<{ Body: S.MarkReadBody }>('/api/conversations/read', { ...authed, schema: { body: S.MarkReadBody } }, async (req) =>
      ok(await service.convs.markRead(who(req), req.body.chatType, req.body.targetId, req.body.seq)),
    );
    // Group read receipts (server/src/domain/group-receipts.ts).
    scope.post<{ Params: { groupId: string }; Body: S.ReadReceiptsBody }>('/api/groups/:groupId/read-receipts', { ...authed, schema: { params: S.GroupParams, body: S.ReadReceiptsBody } }, async (req) =>
      ok(await receipts.counts(who(req), req.params.groupId, req.body.messageIds)),
    );
    scope.get<{ Params: S.GroupMessageParams; Querystring: S.ReadMembersQuery }>(
      '/api/groups/:groupId/messages/:messageId/read-members',
      { ...authed, schema: { params: S.GroupMessageParams, querystring: S.ReadMembersQuery } },
      async (req) => ok(await receipts.members(who(req), req.params.groupId, req.params.messageId, req.query.filter, { limit: req.query.limit === undefined ? undefined : Number(req.query.limit), cursor: req.query.cursor })),
    );
  });
  return app;
}
