// Throughput: one sender, pipelined sends with acks (a window of 100 in flight), B online and
// counting. Rate limit raised. Elapsed = first send until every ack is in and B has every message.
//   raw    socket.io-client 4 -> raw relay (emit to B's room, ack; nothing stored)
//   durable socket.io-client 4 -> durable relay floor (raw relay + one SQLite insert per message,
//          group commit per turn, ack and emit after the commit) -> B
//   imRaw  socket.io-client 4 emitting chat:send -> IM server (validated, stored, numbered) -> B
//   web    ImClient (web adapter).sendPrivateMessage -> IM server -> B
//   weapp  ImClient (miniprogram_dist on the Node wx runtime) -> IM server -> B
// B is a raw socket.io-client 4 connection in every variant (no delivery receipts), so the
// figure is the sending path. CPU per message is read from both processes.
import { body, closeAll, emitAck, log, now, pool, rawImClient, rawRelayClient, ratio, startServer, waitFor, weappImClient, webImClient } from '../lib/common.mjs';

export async function run({ quick, serverExecArgv = [] }) {
  const N = quick ? 3000 : 20000;
  const WARM = quick ? 300 : 2000;
  const WINDOW = 100;
  const ROUNDS = quick ? 2 : 3;
  const server = await startServer({ execArgv: serverExecArgv });
  const clients = [];
  try {
    await server.createUsers(['tp-im-a', 'tp-im-b', 'tp-web-a', 'tp-web-b', 'tp-wx-a', 'tp-wx-b']);
    const variants = {};
    const counter = () => {
      const c = { n: 0 };
      c.inc = () => {
        c.n++;
      };
      return c;
    };
    {
      const a = await rawRelayClient(server, 'tp-raw-a');
      const b = await rawRelayClient(server, 'tp-raw-b');
      clients.push(a, b);
      const got = counter();
      b.on('msg', got.inc);
      let i = 0;
      variants.raw = { got, send: (content) => emitAck(a, 'relay', { clientMsgId: `r${++i}`, chatType: 0, to: 'tp-raw-b', content, msgType: 0 }) };
    }
    {
      const a = await rawRelayClient(server, 'tp-dur-a');
      const b = await rawRelayClient(server, 'tp-dur-b');
      clients.push(a, b);
      const got = counter();
      b.on('msg', got.inc);
      let i = 0;
      variants.durable = { got, send: (content) => emitAck(a, 'durable', { clientMsgId: `d${++i}`, chatType: 0, to: 'tp-dur-b', content, msgType: 0 }) };
    }
    {
      const a = await rawImClient(server, 'tp-im-a');
      const b = await rawImClient(server, 'tp-im-b');
      clients.push(a, b);
      const got = counter();
      b.on('imchat', got.inc);
      let i = 0;
      variants.imRaw = { got, send: (content) => emitAck(a, 'chat:send', { clientMsgId: `i${++i}`, chatType: 0, to: 'tp-im-b', content, msgType: 0 }) };
    }
    for (const [name, make, a, b] of [
      ['web', webImClient, 'tp-web-a', 'tp-web-b'],
      ['weapp', weappImClient, 'tp-wx-a', 'tp-wx-b'],
    ]) {
      const ca = await make(server, a);
      const cb = await rawImClient(server, b);
      clients.push(ca, cb);
      const got = counter();
      cb.on('imchat', got.inc);
      variants[name] = { got, send: (content) => ca.sendPrivateMessage({ recipientId: b, content }) };
    }

    const burst = async (v, n, tag) => {
      const start = v.got.n;
      const t0 = now();
      await pool(n, WINDOW, (i) => v.send(body(`${tag} ${i}`)));
      await waitFor(() => v.got.n - start >= n, 30000, `${tag}: B to receive ${n}`);
      return now() - t0;
    };
    const names = Object.keys(variants);
    for (const name of names) await burst(variants[name], WARM, `warm ${name}`);
    const runs = Object.fromEntries(names.map((n) => [n, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const name of names) {
        const s0 = await server.cpu();
        const c0 = process.cpuUsage();
        const ms = await burst(variants[name], N, `tp ${name} ${r}`);
        const s1 = await server.cpu();
        const c1 = process.cpuUsage(c0);
        runs[name].push({
          ms: Math.round(ms),
          perSec: Math.round((N / ms) * 1000),
          serverCpuUsPerMsg: Math.round(((s1.user - s0.user + s1.system - s0.system) / N) * 10) / 10,
          clientCpuUsPerMsg: Math.round(((c1.user + c1.system) / N) * 10) / 10,
        });
      }
    }
    const out = { messages: N, window: WINDOW, rounds: ROUNDS, of: 'best round', warmup: WARM, contentBytes: 100, durability: server.durability, variants: {} };
    for (const name of names) {
      // Best of the rounds (the round least disturbed by anything else on the machine).
      const rs = runs[name];
      const top = rs.reduce((a, b) => (b.perSec > a.perSec ? b : a));
      out.variants[name] = { perSec: top.perSec, serverCpuUsPerMsg: top.serverCpuUsPerMsg, clientCpuUsPerMsg: top.clientCpuUsPerMsg, runs: rs };
    }
    for (const name of names) {
      out.variants[name].ratio = ratio(out.variants[name].perSec, out.variants.raw.perSec);
      out.variants[name].ratioDurable = ratio(out.variants[name].perSec, out.variants.durable.perSec);
    }
    out.ratio = out.variants.web.ratio;
    out.weappRatio = out.variants.weapp.ratio;
    // Against the durable floor: what ours costs beyond storing each message before its ack.
    out.ratioDurable = out.variants.web.ratioDurable;
    out.imRawRatioDurable = out.variants.imRaw.ratioDurable;
    out.weappRatioDurable = out.variants.weapp.ratioDurable;
    out.floor = await server.call('floorInfo');
    log(`throughput raw ${out.variants.raw.perSec}/s, durable floor ${out.variants.durable.perSec}/s, imRaw ${out.variants.imRaw.perSec}/s, web ${out.variants.web.perSec}/s, weapp ${out.variants.weapp.perSec}/s`);
    return out;
  } finally {
    closeAll(clients);
    await server.stop();
  }
}
