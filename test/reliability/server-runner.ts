/**
 * The reference server under test, restartable on the same ports and data dir. `inprocess` runs
 * `createImServer` in this process and restarts gracefully (stop() then start()); `process` runs
 * the built CLI (server/dist/main.js) as a child and restarts it with SIGTERM (graceful) or
 * SIGKILL (a crash: only what SQLite committed survives).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createImServer, type ImServer } from '../../server/src';

export type ServerMode = 'inprocess' | 'process';

/** Load and chaos runs put every client on 127.0.0.1: limits per address and per user set aside. */
const LOAD_LIMITS = { httpRateLimit: 1_000_000, httpAuthRateLimit: 1_000_000, maxConnectionsPerIp: 0 };
export type StopKind = 'graceful' | 'kill';

export interface RunnerOptions {
  mode: ServerMode;
  dataDir: string;
  appId: string;
  appSecret: string;
  rateLimit?: number;
  rateBurst?: number;
  /** More IM_* settings for the child process (a cluster's IM_DATABASE_URL, IM_REDIS_URL). */
  env?: Record<string, string>;
}

export class ServerRunner {
  apiPort = 0;
  socketPort = 0;
  starts = 0;
  private inproc: ImServer | undefined;
  private child: ChildProcess | undefined;

  constructor(private readonly opts: RunnerOptions) {}

  get apiUrl(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  get socketUrl(): string {
    return `http://127.0.0.1:${this.socketPort}`;
  }

  get running(): boolean {
    return !!(this.inproc || this.child);
  }

  async start(): Promise<void> {
    if (this.running) throw new Error('server already running');
    // The port of a server that just stopped can take a moment to be free again: retry briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        if (this.opts.mode === 'inprocess') await this.startInProcess();
        else await this.startChild();
        this.starts++;
        return;
      } catch (err) {
        if (attempt >= 40 || !/EADDRINUSE/.test(String((err as Error)?.message ?? err))) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  private async startInProcess(): Promise<void> {
    const server = createImServer({
      host: '127.0.0.1',
      apiPort: this.apiPort,
      socketPort: this.socketPort,
      dataDir: this.opts.dataDir,
      devAppId: this.opts.appId,
      devAppSecret: this.opts.appSecret,
      rateLimit: this.opts.rateLimit ?? 100000,
      rateBurst: this.opts.rateBurst ?? 100000,
      ...LOAD_LIMITS,
      logger: false,
    });
    try {
      const info = await server.start();
      this.apiPort = info.apiPort;
      this.socketPort = info.socketPort;
      this.inproc = server;
    } catch (err) {
      await server.stop().catch(() => undefined);
      throw err;
    }
  }

  private async startChild(): Promise<void> {
    const root = path.resolve(__dirname, '../..');
    const child = spawn(process.execPath, ['server/dist/main.js'], {
      cwd: root,
      env: {
        ...process.env,
        IM_HOST: '127.0.0.1',
        IM_API_PORT: String(this.apiPort),
        IM_SOCKET_PORT: String(this.socketPort),
        IM_DATA_DIR: this.opts.dataDir,
        IM_DEV_APP_ID: this.opts.appId,
        IM_DEV_APP_SECRET: this.opts.appSecret,
        IM_RATE_LIMIT: String(this.opts.rateLimit ?? 100000),
        IM_RATE_BURST: String(this.opts.rateBurst ?? 100000),
        IM_HTTP_RATE_LIMIT: String(LOAD_LIMITS.httpRateLimit),
        IM_HTTP_AUTH_RATE_LIMIT: String(LOAD_LIMITS.httpAuthRateLimit),
        IM_MAX_CONNECTIONS_PER_IP: String(LOAD_LIMITS.maxConnectionsPerIp),
        ...this.opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const deadline = Date.now() + 20000;
    while (!/Socket\.IO\s+http:\/\/[^:]+:(\d+)/.test(out)) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited during start: ${out}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`server did not start within 20 s: ${out}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    this.apiPort = Number(/HTTP API\s+http:\/\/[^:]+:(\d+)/.exec(out)![1]);
    this.socketPort = Number(/Socket\.IO\s+http:\/\/[^:]+:(\d+)/.exec(out)![1]);
    // Keep reading so a full pipe never blocks the child; report anything that looks like a crash.
    child.stdout!.removeAllListeners('data');
    child.stderr!.removeAllListeners('data');
    child.stdout!.resume();
    child.stderr!.on('data', (d) => process.stderr.write(`[server] ${d}`));
    this.child = child;
  }

  async stop(kind: StopKind = 'graceful'): Promise<void> {
    if (this.inproc) {
      const s = this.inproc;
      this.inproc = undefined;
      await s.stop();
    }
    if (this.child) {
      const c = this.child;
      this.child = undefined;
      if (c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill(kind === 'kill' ? 'SIGKILL' : 'SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    }
  }
}
