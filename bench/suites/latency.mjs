// Latency A -> B, one message at a time: the next message is sent only after B received the
// previous one and A's send was acknowledged, so this measures latency, not queueing.
// Variants, all against one server process, interleaved in blocks so drift hits them alike:
//   raw        socket.io-client 4 -> raw relay (no auth check, no validation, no storage) -> B
//   durable    socket.io-client 4 -> durable relay floor (raw relay + one SQLite insert per message,
//              group commit per turn, ack and emit after the commit; server-process.mjs) -> B
//   imRaw      socket.io-client 4 emitting chat:send -> IM server -> B (raw socket.io-client)
//   web        ImClient (web adapter) -> IM server -> ImClient (web); B sends delivery receipts
//   webNoRcpt  as web with autoDeliveryReceipt: false (what the receipts cost)
//   weapp      ImClient (miniprogram_dist, weapp adapter) on two Node wx runtimes
import { body, closeAll, emitAck, log, now, once, rawImClient, rawRelayClient, ratio, startServer, stats, weappImClient, webImClient } from '../lib/common.mjs';

function makeWaiter() {
  let current;
  return {
    expect(content) {
      return new Promise((resolve) => {
        current = { content, resolve };
      });
    },
    got(content) {
      if (current && current.content === content) {
        const c = current;
        current = undefined;
        c.resolve(now());
      }
    },
  };
}

/** One message, timed: { ms: send -> B received, ackMs: send -> A's ack }. */
async function timed(sendFn, waiter, content) {
  const recv = waiter.expect(content);
  const t0 = now();
  const ack = sendFn(content).then(() => now());
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(`message "${content.slice(0, 30)}" not delivered in 10 s`)), 10000).unref());
  const [tRecv, tAck] = await Promise.race([Promise.all([recv, ack]), timeout]);
  return { ms: tRecv - t0, ackMs: tAck - t0 };
}

export async function run({ quick }) {
  const N = quick ? 300 : 2000;
  const WARM = quick ? 50 : 200;
  const BLOCK = quick ? 50 : 100;
  const server = await startServer();
  const clients = [];
  try {
    await server.createUsers(['lat-im-a', 'lat-im-b', 'lat-web-a', 'lat-web-b', 'lat-nr-a', 'lat-nr-b', 'lat-wx-a', 'lat-wx-b']);
    const variants = {};

    {
      const a = await rawRelayClient(server, 'lat-raw-a');
      const b = await rawRelayClient(server, 'lat-raw-b');
      clients.push(a, b);
      const w = makeWaiter();
      b.on('msg', (m) => w.got(m.content));
      let i = 0;
      variants.raw = { waiter: w, send: (content) => emitAck(a, 'relay', { clientMsgId: `r${++i}`, chatType: 0, to: 'lat-raw-b', content, msgType: 0 }) };
    }
    {
      const a = await rawRelayClient(server, 'lat-dur-a');
      const b = await rawRelayClient(server, 'lat-dur-b');
      clients.push(a, b);
      const w = makeWaiter();
      b.on('msg', (m) => w.got(m.content));
      let i = 0;
      variants.durable = { waiter: w, send: (content) => emitAck(a, 'durable', { clientMsgId: `d${++i}`, chatType: 0, to: 'lat-dur-b', content, msgType: 0 }) };
    }
    {
      const a = await rawImClient(server, 'lat-im-a');
      const b = await rawImClient(server, 'lat-im-b');
      clients.push(a, b);
      const w = makeWaiter();
      b.on('imchat', (m) => w.got(m.content));
      let i = 0;
      variants.imRaw = { waiter: w, send: (content) => emitAck(a, 'chat:send', { clientMsgId: `i${++i}`, chatType: 0, to: 'lat-im-b', content, msgType: 0 }) };
    }
    const sdkVariant = async (make, a, b, extra) => {
      const ca = await make(server, a, extra);
      const cb = await make(server, b, extra);
      clients.push(ca, cb);
      const w = makeWaiter();
      cb.on('imchat', (m) => w.got(m.content));
      return { waiter: w, send: (content) => ca.sendPrivateMessage({ recipientId: b, content }) };
    };
    variants.web = await sdkVariant(webImClient, 'lat-web-a', 'lat-web-b');
    variants.webNoRcpt = await sdkVariant(webImClient, 'lat-nr-a', 'lat-nr-b', { autoDeliveryReceipt: false });
    variants.weapp = await sdkVariant(weappImClient, 'lat-wx-a', 'lat-wx-b');

    const names = Object.keys(variants);
    for (const name of names) {
      const v = variants[name];
      for (let i = 0; i < WARM; i++) await timed(v.send, v.waiter, body(`warm ${name} ${i}`));
    }
    const samples = Object.fromEntries(names.map((n) => [n, { ms: [], ackMs: [] }]));
    for (let done = 0; done < N; done += BLOCK) {
      for (const name of names) {
        const v = variants[name];
        for (let i = done; i < Math.min(N, done + BLOCK); i++) {
          const r = await timed(v.send, v.waiter, body(`lat ${name} ${i}`));
          samples[name].ms.push(r.ms);
          samples[name].ackMs.push(r.ackMs);
        }
      }
    }
    const out = { messages: N, warmup: WARM, block: BLOCK, contentBytes: 100, durability: server.durability, floor: await server.call('floorInfo'), variants: {} };
    for (const name of names) out.variants[name] = { delivery: stats(samples[name].ms), ack: stats(samples[name].ackMs) };
    const base = out.variants.raw.delivery;
    const floor = out.variants.durable.delivery;
    for (const name of names) {
      const d = out.variants[name].delivery;
      out.variants[name].p50Ratio = ratio(d.p50, base.p50);
      out.variants[name].p99Ratio = ratio(d.p99, base.p99);
      out.variants[name].p50RatioDurable = ratio(d.p50, floor.p50);
      out.variants[name].p99RatioDurable = ratio(d.p99, floor.p99);
    }
    out.p50Ratio = out.variants.web.p50Ratio;
    out.p99Ratio = out.variants.web.p99Ratio;
    out.weappP50Ratio = out.variants.weapp.p50Ratio;
    out.weappP99Ratio = out.variants.weapp.p99Ratio;
    // Against the durable floor: what ours costs beyond storing each message before its ack.
    out.p50RatioDurable = out.variants.web.p50RatioDurable;
    out.p99RatioDurable = out.variants.web.p99RatioDurable;
    out.imRawP50RatioDurable = out.variants.imRaw.p50RatioDurable;
    out.weappP50RatioDurable = out.variants.weapp.p50RatioDurable;
    log(`latency p50 raw ${base.p50} ms, durable floor ${floor.p50} ms, imRaw ${out.variants.imRaw.delivery.p50} ms, web ${out.variants.web.delivery.p50} ms, weapp ${out.variants.weapp.delivery.p50} ms`);
    return out;
  } finally {
    closeAll(clients);
    await server.stop();
  }
}
