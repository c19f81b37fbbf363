/**
 * Starts the reference server (server-main.cjs) in a separate Node process and stops it by PID.
 * The simulator tests run in jsdom, where the server cannot run; a child process also means a
 * crash or hang in the server never takes the test process down with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface ServerProcess {
  apiUrl: string;
  socketUrl: string;
  appId: string;
  appSecret: string;
  pid: number;
  stop(): Promise<void>;
}

const MAIN = path.join(__dirname, 'server-main.cjs');

export interface ServerProcessOptions {
  /** Extra environment, e.g. { IM_TOKEN_TTL: '4' } for short-lived tokens. */
  env?: Record<string, string>;
  timeoutMs?: number;
}

export function startServerProcess(options: ServerProcessOptions = {}): Promise<ServerProcess> {
  const timeoutMs = options.timeoutMs ?? 20000;
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [MAIN], {
      cwd: path.resolve(__dirname, '../..'),
      // Server settings from the developer's shell (IM_*) do not leak into the tests.
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('IM_'))),
        IM_DEV_APP_ID: 'demo-app',
        IM_DEV_APP_SECRET: 'demo-secret',
        ...options.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`the server process did not start within ${timeoutMs} ms\n${err}`)), timeoutMs);

    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid) {
        process.kill(child.pid, 'SIGTERM');
        const killer = setTimeout(() => {
          if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
        }, 5000);
        await exited;
        clearTimeout(killer);
      }
      child.stdin?.destroy();
      child.stdout?.destroy();
      child.stderr?.destroy();
    };

    function fail(error: Error) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop();
      reject(error);
    }

    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n')[0];
      if (settled || !out.includes('\n')) return;
      settled = true;
      clearTimeout(timer);
      try {
        const info = JSON.parse(line) as { apiUrl: string; socketUrl: string; appId: string; appSecret: string };
        resolve({ ...info, pid: child.pid!, stop });
      } catch {
        void stop();
        reject(new Error(`unexpected output from the server process: ${line}\n${err}`));
      }
    });
    child.once('exit', (code, signal) => fail(new Error(`the server process exited (${code ?? signal}) before it was ready\n${err}`)));
    child.once('error', (e) => fail(e));
  });
}
