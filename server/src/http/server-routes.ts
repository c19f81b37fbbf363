import type { ServerRoutes } from './server-api';

/** The route modules of the server REST API (/api/server/*), in registration order. */
export const SERVER_ROUTES: ServerRoutes[] = [];
