// Fan-out: one message to a group whose members are all online; time from the send call until
// the last member has it. Members are raw socket.io-client 4 connections (authenticated with
// their tokens on the IM server), which keeps 1,000 of them cheap in one process; the sender is
// an ImClient (web adapter). Baseline: the same number of raw connections in one room of the raw
// relay, the sender emitting once (Socket.IO broadcast: the packet is encoded once for the room,
// and since read diffusion the IM server does the same: one packet per chunk of 1,000 online members).
import { body, closeAll, emitAck, log, now, pool, rawImClient, rawRelayClient, ratio, startServer, stats, waitFor, webImClient } from '../lib/common.mjs';

export async function run({ quick, members }) {
  // 1,000 members in quick runs too: `fanout.ms1000` is a key other tooling reads, and a
  // 1,000-member group sets up in a few seconds.
  const M = members ?? 1000;
  const ROUNDS = quick ? 3 : 5;
  const server = await startServer();
  const sockets = [];
  try {
    const ids = Array.from({ length: M }, (_, i) => `fo-m${i}`);
    await server.createUsers(['fo-owner', ...ids]);
    const owner = await webImClient(server, 'fo-owner');
    sockets.push(owner);
    const tSetup = now();
    const group = await owner.createGroup({ name: `fan-out ${M}`, userIdList: ids.slice(0, 500) });
    for (let i = 500; i < M; i += 500) await owner.addGroupMembers({ groupId: group.id, userIdList: ids.slice(i, i + 500) });

    // Arrival times of the message currently in flight, per variant.
    const current = { im: null, raw: null };
    const arrive = (kind) => (m) => {
      const c = current[kind];
      if (c && m?.content === c.content) c.times.push(now());
    };
    const imMembers = new Array(M);
    await pool(M, 50, async (i) => {
      const s = await rawImClient(server, ids[i]);
      s.on('imchat', arrive('im'));
      imMembers[i] = s;
    });
    sockets.push(...imMembers);
    const relayMembers = new Array(M);
    await pool(M, 50, async (i) => {
      const s = await rawRelayClient(server, `fo-r${i}`);
      await emitAck(s, 'join', 'fo-room');
      s.on('msg', arrive('raw'));
      relayMembers[i] = s;
    });
    sockets.push(...relayMembers);
    const relaySender = await rawRelayClient(server, 'fo-sender');
    sockets.push(relaySender);
    const setupMs = Math.round(now() - tSetup);

    const send = {
      im: (content) => owner.sendGroupMessage({ groupId: group.id, content }),
      raw: (content) => emitAck(relaySender, 'group', { room: 'fo-room', chatType: 1, to: 'fo-room', content, msgType: 0 }),
    };
    const one = async (kind, tag) => {
      const c = { content: body(tag), times: [] };
      current[kind] = c;
      const t0 = now();
      const ack = send[kind](c.content).then(() => now());
      await waitFor(() => c.times.length >= M, 60000, `${tag}: all ${M} members`);
      const tAck = await ack;
      current[kind] = null;
      c.times.sort((a, b) => a - b);
      return { lastMs: c.times[M - 1] - t0, firstMs: c.times[0] - t0, p50Ms: c.times[Math.floor(M / 2)] - t0, ackMs: tAck - t0 };
    };
    await one('raw', 'warm raw');
    await one('im', 'warm im');
    const res = { im: [], raw: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const kind of ['raw', 'im']) {
        const s0 = await server.cpu();
        const x = await one(kind, `fo ${kind} ${r}`);
        const s1 = await server.cpu();
        x.serverCpuMs = Math.round((s1.user - s0.user + s1.system - s0.system) / 100) / 10;
        res[kind].push(x);
        await new Promise((r2) => setTimeout(r2, 50));
      }
    }
    const summary = (xs) => ({
      last: stats(xs.map((x) => x.lastMs)),
      first: stats(xs.map((x) => x.firstMs)),
      medianMember: stats(xs.map((x) => x.p50Ms)),
      ack: stats(xs.map((x) => x.ackMs)),
      serverCpuMs: stats(xs.map((x) => x.serverCpuMs)),
    });
    const out = { groupSize: M, rounds: ROUNDS, members: 'raw socket.io-client 4 connections', sender: 'ImClient (web adapter)', setupMs, im: summary(res.im), raw: summary(res.raw) };
    out.msLast = out.im.last.p50;
    out.ratio = ratio(out.im.last.p50, out.raw.last.p50);
    out.ms1000 = M === 1000 ? out.msLast : null;
    log(`fan-out ${M}: last member after ${out.msLast} ms (raw broadcast ${out.raw.last.p50} ms)`);
    return out;
  } finally {
    closeAll(sockets);
    await server.stop();
  }
}
