// Client memory: a receiver gets N messages (100-character bodies) and the app keeps every one in
// an array (a chat screen's message list). Heap delta after a full GC (node --expose-gc), per
// 10,000 messages. Receivers, one after another, each with a fresh array:
//   raw    socket.io-client 4 on the IM server, pushing the decoded `imchat` objects (baseline)
//   web    ImClient (web adapter) pushing its `imchat` messages
//   weapp  ImClient (miniprogram_dist) on a Node wx runtime (its storage lives in this heap too)
// The sender is a raw socket.io-client emitting chat:send (window 100), so nothing on the sending
// side is retained. Heap deltas include whatever the SDK keeps per message (should be nothing).
import { body, emitAck, log, pool, rawImClient, ratio, sleep, startServer, waitFor, weappImClient, webImClient } from '../lib/common.mjs';

function heap() {
  global.gc();
  global.gc();
  return process.memoryUsage().heapUsed;
}

export async function run({ quick }) {
  if (!global.gc) throw new Error('run with node --expose-gc');
  const N = quick ? 3000 : 10000;
  const server = await startServer();
  try {
    await server.createUsers(['mem-a', 'mem-raw', 'mem-web', 'mem-wx']);
    const sender = await rawImClient(server, 'mem-a');
    const out = { messages: N, contentBytes: 100, variants: {} };
    const receivers = {
      raw: async () => {
        const s = await rawImClient(server, 'mem-raw');
        return { user: 'mem-raw', on: (fn) => s.on('imchat', fn), close: () => s.disconnect() };
      },
      web: async () => {
        const c = await webImClient(server, 'mem-web');
        return { user: 'mem-web', on: (fn) => c.on('imchat', fn), close: () => c.destroy() };
      },
      weapp: async () => {
        const c = await weappImClient(server, 'mem-wx');
        return {
          user: 'mem-wx',
          on: (fn) => c.on('imchat', fn),
          close: () => {
            c.destroy();
            c.phone.destroy();
          },
        };
      },
    };
    for (const [name, make] of Object.entries(receivers)) {
      const r = await make();
      let kept = [];
      r.on((m) => kept.push(m));
      // A few messages first, so lazily created state is not counted per message.
      for (let i = 0; i < 20; i++) await emitAck(sender, 'chat:send', { clientMsgId: `w-${name}-${i}`, chatType: 0, to: r.user, content: body(`warm ${i}`), msgType: 0 });
      await waitFor(() => kept.length >= 20, 10000, 'warm-up messages');
      kept = [];
      await sleep(100);
      const h0 = heap();
      await pool(N, 100, (i) => emitAck(sender, 'chat:send', { clientMsgId: `m-${name}-${i}`, chatType: 0, to: r.user, content: body(`mem ${name} ${i}`), msgType: 0 }));
      await waitFor(() => kept.length >= N, 60000, `${name}: ${N} messages`);
      await sleep(300); // receipts and storage writes settle
      const h1 = heap();
      const count = kept.length;
      out.variants[name] = {
        heapDeltaBytes: h1 - h0,
        bytesPerMessage: Math.round((h1 - h0) / count),
        mbPer10k: Math.round(((h1 - h0) / count) * 10000 / 1048576 * 100) / 100,
      };
      kept = null;
      r.close();
      await sleep(200);
    }
    for (const v of Object.values(out.variants)) v.ratio = ratio(v.bytesPerMessage, out.variants.raw.bytesPerMessage);
    out.mbPer10k = out.variants.web.mbPer10k;
    out.ratio = out.variants.web.ratio;
    sender.disconnect();
    log(`memory per 10k messages: raw ${out.variants.raw.mbPer10k} MB, web ${out.variants.web.mbPer10k} MB, weapp ${out.variants.weapp.mbPer10k} MB`);
    return out;
  } finally {
    await server.stop();
  }
}
