import type { ServerRoutes } from './server-api';
import { serverGroupRoutes } from './server-groups';
import { serverMessageRoutes } from './server-messages';
import { serverUserRoutes } from './server-users';
import { statsRoutes } from './server-stats';
import { webhookRoutes } from './server-webhooks';

/** The route modules of the server REST API (/api/server/*), in registration order. */
export const SERVER_ROUTES: ServerRoutes[] = [serverUserRoutes, serverGroupRoutes, serverMessageRoutes, webhookRoutes, statsRoutes];
