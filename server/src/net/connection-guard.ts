import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Per client address caps, for one listening port: open TCP connections, and (for Socket.IO)
 * Engine.IO sessions that have not joined the namespace yet. Without them one address can hold
 * every file descriptor (slow bodies, idle sockets) or pile up handshakes in memory (polling
 * sessions need no TCP connection of their own).
 */
export class AddressCounter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** False when `address` is at the cap (0: no cap); otherwise counts it in. */
  enter(address: string): boolean {
    const n = this.counts.get(address) ?? 0;
    if (this.max > 0 && n >= this.max) return false;
    this.counts.set(address, n + 1);
    return true;
  }

  leave(address: string): void {
    const n = (this.counts.get(address) ?? 0) - 1;
    if (n > 0) this.counts.set(address, n);
    else this.counts.delete(address);
  }

  count(address: string): number {
    return this.counts.get(address) ?? 0;
  }
}

export function addressOf(socket: Socket | undefined): string {
  return socket?.remoteAddress ?? 'unknown';
}

export interface HttpGuardOptions {
  /** Open connections per client address (0: no cap). */
  maxConnectionsPerIp: number;
  /** ms a request (headers and body) may take; Node then answers 408 and closes. */
  requestTimeoutMs: number;
  /**
   * ms a connection may stay silent. Longer than Engine.IO's ping interval (25 s) where Socket.IO
   * is served, or a waiting long-poll would be cut.
   */
  idleTimeoutMs: number;
  /** ms the headers may take (default: the request timeout, at most 60 s). */
  headersTimeoutMs?: number;
}

/**
 * Time limits and the per-address connection cap for an HTTP server. Node checks request
 * timeouts every `connectionsCheckingInterval` (30 s by default, set at construction); the
 * server is built with `guardedServerOptions()` so the check runs every second.
 */
export function guardHttpServer(server: HttpServer, opts: HttpGuardOptions): void {
  server.requestTimeout = opts.requestTimeoutMs;
  // Headers must arrive within the request timeout too (Node's default would be 60 s).
  server.headersTimeout = Math.min(opts.headersTimeoutMs ?? opts.requestTimeoutMs, opts.requestTimeoutMs, 60_000);
  server.timeout = opts.idleTimeoutMs;
  const open = new AddressCounter(opts.maxConnectionsPerIp);
  server.on('connection', (socket: Socket) => {
    const address = addressOf(socket);
    if (!open.enter(address)) {
      socket.destroy();
      return;
    }
    socket.once('close', () => open.leave(address));
  });
}

/** Options for http.createServer that make request timeouts take effect within a second. */
export const guardedServerOptions = { connectionsCheckingInterval: 1000 } as const;
