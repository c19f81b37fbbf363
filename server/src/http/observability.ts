import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ApiError, Code } from '../errors';
import type { Metrics } from '../observability/metrics';

export interface MetricsEndpoint {
  render(): Promise<string>;
  contentType: string;
  /** IM_METRICS_TOKEN: when set, GET /metrics needs `Authorization: Bearer <it>`. */
  token?: string;
}

function sameToken(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * Every answer carries its request id (x-request-id: the client's own when it sent a plain one),
 * so a client's report can be matched with the log; and refusals by a rate limit are counted.
 * Registered before the routes, so the hooks cover them all.
 */
export function observeHttp(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onSend', async (req, reply, payload) => {
    void reply.header('x-request-id', req.id);
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    if (reply.statusCode !== 429) return;
    metrics.rateLimited(req.method === 'POST' && req.url.split('?')[0] === '/api/files' ? 'upload' : 'http');
  });
}

/**
 * GET /metrics, the Prometheus text format. Open by default (a scraper sends no credentials and
 * the figures carry no user data); with IM_METRICS_TOKEN set, only with that bearer token.
 */
export function metricsRoute(app: FastifyInstance, endpoint: MetricsEndpoint): void {
  app.get('/metrics', { logLevel: 'warn' }, async (req, reply) => {
    if (endpoint.token !== undefined) {
      const header = req.headers.authorization;
      const given = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
      if (given === undefined) throw new ApiError(Code.NO_TOKEN, 'no token: GET /metrics needs Authorization: Bearer <IM_METRICS_TOKEN>');
      if (!sameToken(given, endpoint.token)) throw new ApiError(Code.TOKEN_INVALID, 'token invalid: not the metrics token (IM_METRICS_TOKEN)');
    }
    return reply.type(endpoint.contentType).send(await endpoint.render());
  });
}
