import { Type, type Static } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { ApiError, Code, ok } from '../errors';
import type { ImService } from '../service';
import { WEBHOOK_EVENTS, URL_MAX, SECRET_MAX, type WebhookConfig } from '../webhooks/types';
import type { Webhooks } from '../webhooks/webhooks';
import type { ServerRoutes } from './server-api';

/**
 * The app's webhook configuration (docs/webhooks.md): GET, PUT, and POST …/delete (the POST twin
 * of DELETE, for clients that only send GET and POST). The secret is never read back: it is
 * returned once, when the server generated it.
 */
const PutBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: URL_MAX }),
    events: Type.Array(Type.Union(WEBHOOK_EVENTS.map((e) => Type.Literal(e))), { maxItems: WEBHOOK_EVENTS.length * 2 }),
    secret: Type.Optional(Type.String({ maxLength: SECRET_MAX })),
    beforeSend: Type.Optional(
      Type.Object(
        {
          timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 10_000 })),
          onTimeout: Type.Optional(Type.Union([Type.Literal('allow'), Type.Literal('refuse')])),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
type PutBody = Static<typeof PutBody>;

function shown(c: WebhookConfig | undefined) {
  if (!c) return { url: null, events: [], beforeSend: null, secretSet: false };
  return { url: c.url, events: c.events, beforeSend: c.beforeSend, secretSet: true, updatedAt: c.updatedAt };
}

function webhooksOf(service: ImService): Webhooks {
  const w = service.webhooks;
  if (!w?.available) throw new ApiError(Code.INTERNAL, 'webhooks need the SQLite or PostgreSQL storage of this server');
  return w;
}

export const webhookRoutes: ServerRoutes = (scope, ctx) => {
  scope.get('/api/server/webhooks', async (req) => ok(shown(await webhooksOf(ctx.service).getConfig(ctx.operator(req).appId))));

  scope.put<{ Body: PutBody }>('/api/server/webhooks', { schema: { body: PutBody } }, async (req) => {
    const { config, generatedSecret } = await webhooksOf(ctx.service).putConfig(ctx.operator(req).appId, req.body);
    return ok(generatedSecret ? { ...shown(config), secret: generatedSecret } : shown(config));
  });

  const remove = async (req: FastifyRequest) => ok({ deleted: await webhooksOf(ctx.service).deleteConfig(ctx.operator(req).appId) });
  scope.delete('/api/server/webhooks', async (req) => remove(req));
  scope.post('/api/server/webhooks/delete', async (req) => remove(req));
};
