import rateLimit from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { OPERATOR_TOKEN_TTL, mintOperatorToken, verifyOperatorToken } from '../auth';
import { ApiError, Code, ok } from '../errors';
import type { ImService } from '../service';
import type { StatsReply } from '../observability/cluster-stats';

/**
 * The server REST API for an app's own backend and the admin console (docs/protocol.md section 8):
 * routes under /api/server/, authenticated as the app, never as a user. Two proofs are accepted:
 * `Authorization: Basic base64(appId:appSecret)` (a backend holding the secret) or
 * `Authorization: Bearer <operator token>` from POST /api/server/session (the console, which keeps
 * the short-lived token in the tab's sessionStorage, so the secret is typed once and never stored
 * or put in a URL).
 * A sign-out is stored, not only forgotten by the page: a copied token stops working on every node.
 * Neither is a cookie, so a cross-site request cannot carry them (no CSRF).
 */

/** The app a server API request acts for. */
export interface Operator {
  appId: string;
  /** How it proved it: the secret itself, or an operator token minted from it. */
  via: 'secret' | 'token';
  /** The operator token's id and expiry (ms), when `via` is `token`: what a sign-out records. */
  token?: { jti: string; expiresAt: number };
}

/** A module of server API routes; `operator(req)` is the authenticated app. */
export type ServerRoutes = (scope: FastifyInstance, ctx: ServerApiContext) => void | Promise<void>;

export interface ServerApiContext {
  service: ImService;
  operator: (req: FastifyRequest) => Operator;
  /** Bytes of messages in one history reply. */
  replyMaxBytes: number;
  /** The figures of every node (GET /api/server/stats). */
  stats: () => Promise<StatsReply>;
}

export interface ServerApiOptions {
  /** Sign-ins (POST /api/server/session) per client address per minute. */
  authRateLimit: number;
  /** Server API requests per client address per minute. */
  rateLimit: number;
  limitsRedis?: Redis;
  replyMaxBytes: number;
  /** Route modules registered inside the authenticated scope. */
  routes: ServerRoutes[];
  /** The figures of every node; without it (a bare API in tests) GET /api/server/stats lists none. */
  stats?: () => Promise<StatsReply>;
}

declare module 'fastify' {
  interface FastifyRequest {
    operator: Operator | null;
  }
}

const MINUTE_MS = 60_000;
const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_\\-.@]+$' });
export const SessionBody = Type.Object({ appId: Id, appSecret: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });
type SessionBody = Static<typeof SessionBody>;

/** The sign-out's optional body: `{ all: true }` revokes every operator token of the app. */
function revokeAll(body: unknown): boolean {
  if (body === undefined || body === null) return false;
  const fields = typeof body === 'object' && !Array.isArray(body) ? Object.entries(body) : undefined;
  if (!fields || fields.some(([k, v]) => k !== 'all' || typeof v !== 'boolean')) {
    throw new ApiError(Code.INVALID_ARGUMENT, 'body: none, or { "all": true } to revoke every operator token of the app');
  }
  return (body as { all?: boolean }).all === true;
}

function limited(what: string) {
  return (_req: FastifyRequest, ctx: { max: number; after: string }) =>
    new ApiError(Code.RATE_LIMITED, `rate limited: at most ${ctx.max} requests per minute ${what}; retry in ${ctx.after}`);
}

/** Parses `Basic base64(appId:appSecret)`; undefined when the header is not Basic. */
function basicCredentials(header: string): { appId: string; appSecret: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]{1,1024})\s*$/i.exec(header);
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) throw new ApiError(Code.APP_CREDENTIALS_INVALID, 'app credentials invalid: Basic credentials must be base64(appId:appSecret)');
  return { appId: text.slice(0, colon), appSecret: text.slice(colon + 1) };
}

/**
 * Wrong app secrets per client address per minute, on this node. Basic requests are counted
 * against the whole server API's limit (a backend makes many), so without this a wrong secret
 * could be tried at that rate rather than at the sign-in rate. Bounded: the oldest address goes.
 */
class FailedSecrets {
  private readonly byAddress = new Map<string, { count: number; until: number }>();
  constructor(private readonly max: number) {}

  blocked(address: string, now = Date.now()): boolean {
    const entry = this.byAddress.get(address);
    return !!entry && entry.until > now && entry.count >= this.max;
  }

  failed(address: string, now = Date.now()): void {
    const entry = this.byAddress.get(address);
    if (entry && entry.until > now) {
      entry.count++;
      return;
    }
    this.byAddress.delete(address);
    if (this.byAddress.size >= 50_000) this.byAddress.delete(this.byAddress.keys().next().value!);
    this.byAddress.set(address, { count: 1, until: now + MINUTE_MS });
  }
}

/** Registers /api/server/session and the authenticated /api/server/* scope. */
export async function registerServerApi(app: FastifyInstance, service: ImService, opts: ServerApiOptions): Promise<void> {
  const shared = opts.limitsRedis ? { redis: opts.limitsRedis, nameSpace: 'im:srv:', skipOnError: true } : {};
  app.decorateRequest('operator', null);

  await app.register(async (scope) => {
    await scope.register(rateLimit, { ...shared, max: opts.authRateLimit, timeWindow: MINUTE_MS, cache: 50_000, errorResponseBuilder: limited('from one address to /api/server/session') });
    scope.post<{ Body: SessionBody }>('/api/server/session', { schema: { body: SessionBody } }, async (req) => {
      await service.checkApp(req.body.appId, req.body.appSecret);
      const { generation } = await service.storage.operatorTokenState(req.body.appId, null);
      const token = mintOperatorToken(req.body.appId, req.body.appSecret, generation);
      return ok({ token, appId: req.body.appId, expiresAt: (Math.floor(Date.now() / 1000) + OPERATOR_TOKEN_TTL) * 1000 });
    });
  });

  const failures = new FailedSecrets(opts.authRateLimit);
  const authenticate = async (req: FastifyRequest) => {
    const header = req.headers.authorization;
    if (typeof header !== 'string' || header.trim() === '') {
      throw new ApiError(Code.NO_TOKEN, 'no credentials: send Authorization: Basic base64(appId:appSecret) or Bearer <operator token> (POST /api/server/session)');
    }
    const basic = basicCredentials(header);
    if (basic) {
      if (failures.blocked(req.ip)) throw new ApiError(Code.RATE_LIMITED, `rate limited: at most ${opts.authRateLimit} wrong app secrets per minute from one address; retry in a minute`);
      await service.checkApp(basic.appId, basic.appSecret).catch((err: unknown) => {
        if (err instanceof ApiError && err.code === Code.APP_CREDENTIALS_INVALID) failures.failed(req.ip);
        throw err;
      });
      req.operator = { appId: basic.appId, via: 'secret' };
      return;
    }
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (!bearer) throw new ApiError(Code.TOKEN_INVALID, 'token invalid: the Authorization header must be "Basic …" or "Bearer <operator token>"');
    const claims = await verifyOperatorToken((appId) => service.storage.getApp(appId), (appId, jti) => service.storage.operatorTokenState(appId, jti), bearer);
    req.operator = { appId: claims.app, via: 'token', token: { jti: claims.jti, expiresAt: claims.exp * 1000 } };
  };

  await app.register(async (scope) => {
    // Counted per address before the credentials are checked: a wrong secret costs a request too.
    await scope.register(rateLimit, { ...shared, max: opts.rateLimit, timeWindow: MINUTE_MS, cache: 50_000, errorResponseBuilder: limited('from one address to /api/server') });
    scope.addHook('onRequest', authenticate);
    const ctx: ServerApiContext = {
      service,
      operator: (req) => {
        if (!req.operator) throw new ApiError(Code.NO_TOKEN, 'no credentials');
        return req.operator;
      },
      replyMaxBytes: opts.replyMaxBytes,
      stats: opts.stats ?? (async () => ({ connections: 0, messagesPerSec: 0, nodes: [] })),
    };
    scope.get('/api/server/app', async (req) => ok({ appId: ctx.operator(req).appId, via: ctx.operator(req).via }));
    // Sign-out, in the DELETE and POST forms the other removals have (POST for clients that send only GET and POST).
    const revoke = async (req: FastifyRequest) => {
      const operator = ctx.operator(req);
      if (revokeAll(req.body)) {
        await service.storage.revokeOperatorTokens(operator.appId);
        return ok({ revoked: true, all: true });
      }
      if (!operator.token) {
        throw new ApiError(Code.INVALID_ARGUMENT, 'all: Basic credentials are no operator token to sign out; send { "all": true } to revoke every operator token of the app, or the token itself as Authorization: Bearer');
      }
      await service.storage.revokeOperatorToken(operator.appId, operator.token.jti, operator.token.expiresAt);
      return ok({ revoked: true });
    };
    scope.post('/api/server/session/revoke', revoke);
    scope.delete('/api/server/session', revoke);
    for (const routes of opts.routes) await routes(scope, ctx);
  });
}
