#!/usr/bin/env node
/** `npm start`: the reference server with its embedded database, configured by IM_* variables. */
import path from 'node:path';
import { configFromEnv } from './config';
import { createImServer } from './server';

async function main(): Promise<void> {
  let config;
  try {
    config = configFromEnv();
  } catch (err) {
    console.error(`comind-im-server: ${(err as Error).message}`);
    process.exit(2);
  }
  if (!process.env.IM_DATA_DIR) {
    // `npm start` runs in the workspace folder; keep the data where the user typed the command.
    config.dataDir = path.resolve(process.env.INIT_CWD || process.cwd(), 'data');
  }
  // IM_LOG (0 or 1) is the older switch: 0 keeps errors only. IM_LOG_LEVEL says more and wins.
  const legacy = process.env.IM_LOG?.trim() ?? '';
  if (!['', '0', '1'].includes(legacy)) {
    console.error(`comind-im-server: IM_LOG must be 0 or 1 (or use IM_LOG_LEVEL), got "${legacy}"`);
    process.exit(2);
  }
  const level = config.logLevel ?? (legacy === '0' ? 'error' : 'info');
  let server;
  try {
    // JSON lines on stdout (docs/operations.md); the start-up lines below stay plain text.
    server = createImServer({ ...config, logger: { level } });
  } catch (err) {
    // Typically the data directory: not writable, or a database from a newer server.
    console.error(`comind-im-server: cannot start with data directory ${config.dataDir}: ${(err as Error).message}`);
    process.exit(2);
  }
  let urls;
  try {
    urls = await server.start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { port?: number };
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES') {
      console.error(
        `comind-im-server: cannot listen on ${config.host} port ${e.port ?? '?'} (${e.code === 'EADDRINUSE' ? 'already in use' : 'permission denied'}); ` +
          'choose other ports with IM_API_PORT / IM_SOCKET_PORT',
      );
      await server.stop().catch(() => undefined);
      process.exit(2);
    }
    throw err;
  }
  const show = (url: string) => url.replace('127.0.0.1', config.host === '0.0.0.0' ? 'localhost' : config.host);
  console.log(
    [
      'comind-im-server is ready',
      `  HTTP API   ${show(urls.apiUrl)}   (GET /health)`,
      `  Socket.IO  ${show(urls.socketUrl)}`,
      `  Console    ${show(urls.apiUrl)}/admin/   (sign in with the app id and secret below)`,
      `  Metrics    ${show(urls.apiUrl)}/metrics${config.metricsToken ? '   (Bearer IM_METRICS_TOKEN)' : ''}`,
      `  data       ${config.dataDir}`,
      '',
      '  Development app (fix it with IM_DEV_APP_ID / IM_DEV_APP_SECRET):',
      `    appId      ${server.devApp.appId}`,
      `    appSecret  ${server.devApp.appSecret}`,
      '',
      '  The app secret is for your backend and for development only; never ship it in a client.',
    ].join('\n'),
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log(`comind-im-server: ${signal} received, shutting down (a second signal forces exit)`);
    server.stop().then(
      () => process.exit(0),
      (err) => {
        console.error('comind-im-server: shutdown failed', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err) => {
  console.error('comind-im-server: failed to start', err);
  process.exit(1);
});
