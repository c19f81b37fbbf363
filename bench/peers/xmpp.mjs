// A minimal XMPP client over WebSocket (RFC 7395 framing: one stanza per frame), enough to drive
// the peer servers: SCRAM-SHA-1 login, resource binding, stream management (XEP-0198) acks,
// initial presence, MUC join, and raw <message/> stanzas. The same client speaks plain TCP c2s
// (RFC 6120, port 5222 style, no TLS on loopback) for the memory step's second row: there the
// stream is cut into top-level elements by @xmpp/xml's stream parser and each element, serialised
// again, goes through the same frame handling as a WebSocket frame.
//
// Why not @xmpp/client: the benchmarks open up to 10,000 connections from one Node process on a
// 2-core machine that also runs the server under test; a full streaming XML parser and middleware
// stack per connection would make the load generator the bottleneck and the client's own memory
// the limit. With RFC 7395 every frame is a complete element, so matching a few known element
// names is enough, and SCRAM is a few lines of node:crypto.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { connect as tcpConnect } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../package.json'));
const WebSocket = require('ws');
const { Parser: StreamParser } = await import('@xmpp/xml');

const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';
const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_SM = 'urn:xmpp:sm:3';

export const escapeXml = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]);
const unescapeXml = (s) => s.replace(/&(amp|lt|gt|quot|apos);/g, (_, e) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[e]);

/** The element name of a frame: `<stream:features ...>` -> `features`, `<a xmlns=... h='3'/>` -> `a`. */
function nameOf(frame) {
  const m = /^<(?:[\w-]+:)?([\w-]+)/.exec(frame);
  return m ? m[1] : '';
}
const attr = (frame, name) => {
  const m = new RegExp(`\\s${name}=(?:"([^"]*)"|'([^']*)')`).exec(frame);
  return m ? unescapeXml(m[1] ?? m[2]) : undefined;
};
const inner = (frame, tag) => {
  const m = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`).exec(frame);
  return m ? unescapeXml(m[1]) : undefined;
};

// A client caches its salted password per (salt, iterations), as real clients do; it is the
// client's share of the login cost, not the server's.
const saltedCache = new Map();
const hmac = (key, data) => createHmac('sha1', key).update(data).digest();

/**
 * One XMPP connection, over WebSocket (`url`) or, with `tcp: { host, port }`, over plain TCP c2s.
 * Events: 'message' ({ from, type, body, frame }), 'presence' (frame), 'close'.
 * `send(stanzaXml)` counts the stanza for stream management; `ackedUpTo(n)` resolves once the
 * server's <a h/> reached n (requesting it with <r/>).
 */
export class XmppConnection extends EventEmitter {
  constructor({ url, tcp, domain, user, password, resource = 'bench' }) {
    super();
    Object.assign(this, { url, tcp, domain, user, password, resource });
    this.jid = `${user}@${domain}`;
    this.sent = 0; // stanzas sent since <enable/>
    this.acked = 0; // server's last h
    this.received = 0; // stanzas received since <enabled/>
    this.smEnabled = false;
    this.ackWaiters = [];
    this.pending = null; // { match(frame) -> bool, resolve, reject }
  }

  /** Opens the WebSocket (or TCP connection), logs in (SCRAM-SHA-1), binds, enables SM; presence unless { presence: false }. */
  async connect({ presence = true, sm = true, timeoutMs = 30000 } = {}) {
    await (this.tcp ? this.openTcp(timeoutMs) : this.openWebSocket(timeoutMs));
    const guard = setTimeout(() => this.terminate(), timeoutMs);
    try {
      let features = await this.openStream();
      if (!/SCRAM-SHA-1</.test(features)) throw new Error(`${this.jid}: SCRAM-SHA-1 not offered: ${features.slice(0, 300)}`);
      await this.scram();
      features = await this.openStream();
      const bound = await this.request(
        `<iq xmlns='jabber:client' type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${escapeXml(this.resource)}</resource></bind></iq>`,
        (f) => nameOf(f) === 'iq' && attr(f, 'id') === 'bind',
      );
      if (attr(bound, 'type') !== 'result') throw new Error(`${this.jid}: bind failed: ${bound.slice(0, 300)}`);
      this.fullJid = inner(bound, 'jid');
      if (sm && features.includes(NS_SM)) {
        await this.request(`<enable xmlns='${NS_SM}'/>`, (f) => nameOf(f) === 'enabled' || nameOf(f) === 'failed');
        this.smEnabled = true;
      }
      if (presence) this.send("<presence xmlns='jabber:client'/>");
    } finally {
      clearTimeout(guard);
    }
    return this;
  }

  openWebSocket(timeoutMs) {
    const ws = new WebSocket(this.url, 'xmpp', { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    this.ws = ws;
    this.write = (xml) => ws.send(xml);
    ws.on('upgrade', (res) => res.socket?.setNoDelay(true));
    ws.on('message', (data) => this.onFrame(data.toString()));
    ws.on('close', () => this.onClosed());
    ws.on('error', (e) => this.onError(e));
    return new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
  }

  openTcp(timeoutMs) {
    const socket = tcpConnect({ host: this.tcp.host, port: this.tcp.port, noDelay: true, timeout: timeoutMs });
    this.socket = socket;
    this.write = (xml) => socket.write(xml);
    // Decodes UTF-8 across chunk boundaries before the parser sees the text.
    socket.setEncoding('utf8');
    socket.on('data', (text) => this.parser?.write(text));
    socket.on('close', () => this.onClosed());
    socket.on('error', (e) => this.onError(e));
    return new Promise((resolve, reject) => {
      socket.once('connect', () => {
        socket.setTimeout(0);
        resolve();
      });
      socket.once('timeout', () => socket.destroy(new Error(`${this.jid}: TCP connect timed out`)));
      socket.once('error', reject);
    });
  }

  onClosed() {
    this.closed = true;
    this.pending?.reject(new Error(`${this.jid}: connection closed`));
    this.pending = null;
    for (const w of this.ackWaiters.splice(0)) w.reject(new Error(`${this.jid}: closed before ack ${w.n}`));
    this.emit('close');
  }

  onError(e) {
    this.pending?.reject(e);
    this.pending = null;
  }

  openStream() {
    const features = (f) => nameOf(f) === 'features';
    if (!this.tcp) return this.request(`<open xmlns='${NS_FRAMING}' to='${this.domain}' version='1.0'/>`, features);
    // Every stream (the first, and the restart after SASL) starts a new XML document: a new parser.
    const parser = new StreamParser();
    parser.on('element', (el) => this.onFrame(el.toString()));
    parser.on('error', (e) => this.socket.destroy(e));
    this.parser = parser;
    return this.request(`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${this.domain}' version='1.0'>`, features);
  }

  async scram() {
    const cnonce = randomBytes(18).toString('base64');
    const clientFirstBare = `n=${this.user},r=${cnonce}`;
    const challengeFrame = await this.request(
      `<auth xmlns='${NS_SASL}' mechanism='SCRAM-SHA-1'>${Buffer.from(`n,,${clientFirstBare}`).toString('base64')}</auth>`,
      (f) => ['challenge', 'failure'].includes(nameOf(f)),
    );
    if (nameOf(challengeFrame) !== 'challenge') throw new Error(`${this.jid}: auth failed: ${challengeFrame.slice(0, 200)}`);
    const serverFirst = Buffer.from(inner(challengeFrame, 'challenge'), 'base64').toString();
    const parts = Object.fromEntries(serverFirst.split(',').map((p) => [p[0], p.slice(2)]));
    if (!parts.r?.startsWith(cnonce)) throw new Error(`${this.jid}: bad server nonce`);
    const key = `${this.password}\0${parts.s}\0${parts.i}`;
    let salted = saltedCache.get(key);
    if (!salted) {
      salted = pbkdf2Sync(this.password, Buffer.from(parts.s, 'base64'), Number(parts.i), 20, 'sha1');
      saltedCache.set(key, salted);
    }
    const clientKey = hmac(salted, 'Client Key');
    const storedKey = createHash('sha1').update(clientKey).digest();
    const finalNoProof = `c=biws,r=${parts.r}`;
    const authMessage = `${clientFirstBare},${serverFirst},${finalNoProof}`;
    const signature = hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i] ^ signature[i];
    const done = await this.request(
      `<response xmlns='${NS_SASL}'>${Buffer.from(`${finalNoProof},p=${proof.toString('base64')}`).toString('base64')}</response>`,
      (f) => ['success', 'failure'].includes(nameOf(f)),
    );
    if (nameOf(done) !== 'success') throw new Error(`${this.jid}: SCRAM failed: ${done.slice(0, 200)}`);
  }

  /** Sends raw XML and resolves with the first frame that `match`es. */
  request(xml, match) {
    return new Promise((resolve, reject) => {
      this.pending = { match, resolve, reject };
      this.write(xml);
    });
  }

  /** A stanza (message, presence, iq): counted for stream management. */
  send(xml) {
    if (this.smEnabled) this.sent++;
    this.write(xml);
  }

  /** A stanza followed by an ack request: the ack says the server handled it. */
  sendWithAck(xml) {
    this.send(xml);
    if (this.smEnabled) this.write(`<r xmlns='${NS_SM}'/>`);
    return this.sent;
  }

  /** Resolves once the server acknowledged stanza number n (since <enable/>). */
  ackedUpTo(n, ms = 30000) {
    if (this.acked >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.jid}: no ack for stanza ${n} in ${ms} ms (h=${this.acked})`)), ms);
      this.ackWaiters.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  chat(to, body, id) {
    return `<message xmlns='jabber:client' to='${to}' type='chat' id='${id}'><body>${escapeXml(body)}</body></message>`;
  }

  onFrame(frame) {
    if (this.pending && this.pending.match(frame)) {
      const p = this.pending;
      this.pending = null;
      p.resolve(frame);
      return;
    }
    const name = nameOf(frame);
    if (name === 'a') {
      this.acked = Number(attr(frame, 'h'));
      const still = [];
      for (const w of this.ackWaiters) (w.n <= this.acked ? w.resolve() : still.push(w));
      this.ackWaiters = still;
      return;
    }
    if (name === 'r') {
      this.write(`<a xmlns='${NS_SM}' h='${this.received}'/>`);
      return;
    }
    if (name === 'message' || name === 'presence' || name === 'iq') {
      if (this.smEnabled) this.received++;
      if (name === 'message') {
        const body = inner(frame, 'body');
        if (body !== undefined) this.emit('message', { from: attr(frame, 'from'), type: attr(frame, 'type'), body, frame });
      } else if (name === 'presence') this.emit('presence', frame);
      else if (attr(frame, 'type') === 'get') {
        // Pings and disco from the server: answer, or the server may drop the session.
        this.send(`<iq xmlns='jabber:client' type='error' id='${escapeXml(attr(frame, 'id') ?? '')}' to='${escapeXml(attr(frame, 'from') ?? this.domain)}'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`);
      }
    }
  }

  /** Ends the stream politely (the server then stores nothing more for this resource). */
  close() {
    if (this.closed) return;
    try {
      this.write(this.tcp ? '</stream:stream>' : `<close xmlns='${NS_FRAMING}'/>`);
    } catch {
      /* closing anyway */
    }
    if (this.tcp) this.socket?.end();
    else this.ws?.close();
  }

  /** Drops the connection without ending the stream (a lost network). */
  terminate() {
    if (this.tcp) this.socket?.destroy();
    else this.ws?.terminate();
  }
}
