import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';

/**
 * The admin console (docs/admin.md): static files from server/admin, at /admin/ on the API port.
 * The same path from server/src/http (ts-jest) and server/dist/http (the build): the folder ships
 * beside both.
 */
export const ADMIN_DIR = path.join(__dirname, '..', '..', 'admin');

/**
 * The console calls only its own origin, runs only its own script and style files, and may not be
 * framed; data reaches the page as text (docs/admin.md, "Security").
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

/** Registers GET /admin (a redirect) and the console's files under /admin/. */
export async function registerAdminConsole(app: FastifyInstance, dir = ADMIN_DIR): Promise<void> {
  if (!existsSync(path.join(dir, 'index.html'))) {
    app.log.warn(`admin console not served: no ${path.join(dir, 'index.html')}`);
    return;
  }
  await app.register(async (scope) => {
    scope.addHook('onSend', async (req, reply, payload) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
      // The page always comes fresh (a new release is picked up at once); its script and style
      // files are revalidated by ETag.
      const file = req.url.split('?')[0]!;
      reply.header('cache-control', file === '/admin/' || file.endsWith('.html') ? 'no-store' : 'no-cache');
      return payload;
    });
    // Relative links in the page (admin.js, admin.css) need the trailing slash.
    scope.get('/admin', async (_req, reply) => reply.redirect('/admin/', 301));
    // wildcard: false makes one route per file found here at start: a request names one of those
    // files or gets the API's 404, so no path can reach outside the folder.
    await scope.register(fastifyStatic, {
      root: dir,
      prefix: '/admin/',
      wildcard: false,
      index: 'index.html',
      redirect: false,
      cacheControl: false,
      dotfiles: 'ignore',
      serveDotFiles: false,
      decorateReply: false,
      list: false,
    });
  });
}
