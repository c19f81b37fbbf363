/** Starts the real reference server in-process on ephemeral loopback ports, with a throwaway data dir. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createImServer } from '../../server/src';

export interface TestServer {
  apiUrl: string;
  socketUrl: string;
  appId: string;
  appSecret: string;
  stop(): Promise<void>;
}

export async function startTestServer(overrides: Record<string, unknown> = {}): Promise<TestServer> {
  // A caller-provided dataDir is the caller's to clean up (persistence tests restart on it).
  const ownDir = typeof overrides.dataDir !== 'string';
  const dataDir = ownDir ? mkdtempSync(path.join(tmpdir(), 'comind-im-test-')) : (overrides.dataDir as string);
  const server = createImServer({
    host: '127.0.0.1',
    apiPort: 0,
    socketPort: 0,
    dataDir,
    logger: false,
    rateLimit: 100000,
    rateBurst: 100000,
    // Tests open hundreds of connections and mint hundreds of tokens from one address; the tests
    // of these limits set them back.
    httpRateLimit: 1_000_000,
    httpAuthRateLimit: 1_000_000,
    maxConnectionsPerIp: 0,
    ...overrides,
  } as Parameters<typeof createImServer>[0]);
  const info = await server.start();
  return {
    apiUrl: info.apiUrl,
    socketUrl: info.socketUrl,
    appId: server.devApp.appId,
    appSecret: server.devApp.appSecret,
    async stop() {
      await server.stop();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let counter = 0;
/** A user id unique within this process, so tests never see each other's inboxes. */
export function uniqueUser(prefix = 'u'): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter}`;
}

/** Resolves with the next `event` emission, or rejects after `ms`. */
export function nextEvent<T = unknown>(target: { once(e: string, f: (...args: any[]) => void): unknown }, event: string, ms = 5000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for "${event}"`)), ms);
    target.once(event, (v: T) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

/** Polls `check` until it returns true, or fails after `ms`. */
export async function waitFor(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
