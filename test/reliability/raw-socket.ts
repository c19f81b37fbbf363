/**
 * A Socket.IO 4 client written on a bare WebSocket, for sending what socket.io-client would never
 * produce: malformed packets, arbitrary JSON text as an event's arguments, nesting deeper than a
 * JS encoder can walk. Speaks just enough engine.io v4 (open, ping/pong, message) and socket.io
 * v5 packets (CONNECT, EVENT with ack id, ACK).
 */
import WebSocket from 'ws';

export class RawSocket {
  private readonly ws: WebSocket;
  private nextId = 1;
  private readonly acks = new Map<number, (args: unknown[]) => void>();
  readonly events: Array<{ event: string; args: unknown[] }> = [];
  session: any;
  closed = false;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => this.onFrame(String(data)));
    ws.on('close', () => {
      this.closed = true;
    });
    ws.on('error', () => {
      this.closed = true;
    });
  }

  /** Connects with `token` in the CONNECT packet's auth and resolves once `session` arrived. */
  static connect(socketUrl: string, token: string, timeoutMs = 5000): Promise<RawSocket> {
    const ws = new WebSocket(`${socketUrl.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
    const raw = new RawSocket(ws);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error('raw socket: no session'));
      }, timeoutMs);
      ws.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      ws.on('message', (data) => {
        const text = String(data);
        if (text.startsWith('0')) ws.send(`40${JSON.stringify({ token })}`);
        if (text.startsWith('44')) {
          clearTimeout(timer);
          ws.terminate();
          reject(new Error(`raw socket refused: ${text}`));
        }
      });
      const poll = setInterval(() => {
        if (raw.session) {
          clearInterval(poll);
          clearTimeout(timer);
          resolve(raw);
        }
        if (raw.closed) clearInterval(poll);
      }, 5);
    });
  }

  private onFrame(text: string): void {
    if (text === '2') {
      this.ws.send('3'); // engine.io ping -> pong
      return;
    }
    if (!text.startsWith('4')) return;
    const packet = text.slice(1);
    const m = /^([0-6])(\d*)(.*)$/s.exec(packet);
    if (!m) return;
    const [, type, id, json] = m;
    let payload: unknown;
    try {
      payload = json ? JSON.parse(json) : undefined;
    } catch {
      return;
    }
    if (type === '2' && Array.isArray(payload)) {
      const [event, ...args] = payload as [string, ...unknown[]];
      if (event === 'session') this.session = args[0];
      this.events.push({ event, args });
    } else if (type === '3' && id) {
      this.acks.get(Number(id))?.(payload as unknown[]);
      this.acks.delete(Number(id));
    }
  }

  /**
   * Sends an EVENT packet whose argument list is the given JSON text (inserted verbatim, so it may
   * be anything), with an ack id. Resolves with the ack's arguments, or `'no-ack'` after `ms`.
   */
  emitRaw(argsJsonText: string, ms = 3000): Promise<unknown[] | 'no-ack' | 'closed'> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      if (this.closed) return resolve('closed');
      const timer = setTimeout(() => {
        this.acks.delete(id);
        resolve(this.closed ? 'closed' : 'no-ack');
      }, ms);
      this.acks.set(id, (args) => {
        clearTimeout(timer);
        resolve(args);
      });
      this.ws.send(`42${id}${argsJsonText}`);
    });
  }

  /** Sends a frame exactly as given (malformed packets). */
  sendFrame(text: string): void {
    if (!this.closed) this.ws.send(text);
  }

  close(): void {
    this.closed = true;
    this.ws.terminate();
  }
}
