import { ok } from '../errors';
import type { ServerRoutes } from './server-api';

/**
 * GET /api/server/stats: connections and messages per second of this node and of every node of
 * the cluster (server/src/observability/cluster-stats.ts). The figures are the nodes', across
 * apps: counts only, no user or app data.
 */
export const statsRoutes: ServerRoutes = (scope, ctx) => {
  scope.get('/api/server/stats', async () => ok(await ctx.stats()));
};
