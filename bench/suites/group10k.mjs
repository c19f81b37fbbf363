// A 10,000-member group (read diffusion): one message is stored once, however many members the
// group has, and goes live to the members online; the others catch up with `chat:group-sync`.
// The group is the owner + 9,999 members (IM_GROUP_MAX_MEMBERS, 10,000 by default); a share of
// them is online as raw socket.io-client 4 connections in this one process (1,000 in quick runs,
// 2,000 in full), the rest offline. The sender is the owner, an ImClient (web adapter).
// Per round: storage rows written per message (SQLite total_changes() of the server's connection,
// after − before), time from the send call until the last online member has it, the ack, and the
// server's event-loop delay over the round (perf_hooks.monitorEventLoopDelay in the server
// process). Then a burst: 100 sends pipelined (all promises at once) until every one is acked
// and delivered. Then one offline member connects and catches up with `chat:group-sync`.
// Baseline: the raw relay with as many connections in one room, the sender emitting once.
import { body, closeAll, emitAck, log, median, now, pool, rawImClient, rawRelayClient, ratio, startServer, stats, waitFor, webImClient } from '../lib/common.mjs';

export async function run({ quick, members, online }) {
  const M = members ?? 10_000; // including the owner
  const ONLINE = Math.min(online ?? (quick ? 1000 : 2000), M - 2);
  const ROUNDS = quick ? 3 : 5;
  const BURST = 100;
  const server = await startServer();
  const sockets = [];
  try {
    const ids = Array.from({ length: M - 1 }, (_, i) => `gk-m${i}`);
    const tSetup = now();
    await server.createUsers(['gk-owner', ...ids]);
    const owner = await webImClient(server, 'gk-owner');
    sockets.push(owner);
    const group = await owner.createGroup({ name: `group ${M}`, userIdList: ids.slice(0, 500) });
    for (let i = 500; i < ids.length; i += 500) await owner.addGroupMembers({ groupId: group.id, userIdList: ids.slice(i, i + 500) });
    const groupMs = Math.round(now() - tSetup);

    // Arrivals of what is currently in flight, per variant: a content prefix, a count and the
    // first and last arrival times.
    const current = { im: null, raw: null };
    const arrive = (kind) => (m) => {
      const c = current[kind];
      if (!c || typeof m?.content !== 'string' || !m.content.startsWith(c.prefix)) return;
      const t = now();
      if (c.count++ === 0) c.first = t;
      c.last = t;
    };
    const imMembers = new Array(ONLINE);
    await pool(ONLINE, 50, async (i) => {
      const s = await rawImClient(server, ids[i]);
      s.on('imchat', arrive('im'));
      imMembers[i] = s;
    });
    sockets.push(...imMembers);
    const relayMembers = new Array(ONLINE);
    await pool(ONLINE, 50, async (i) => {
      const s = await rawRelayClient(server, `gk-r${i}`);
      await emitAck(s, 'join', 'gk-room');
      s.on('msg', arrive('raw'));
      relayMembers[i] = s;
    });
    sockets.push(...relayMembers);
    const relaySender = await rawRelayClient(server, 'gk-sender');
    sockets.push(relaySender);
    const setupMs = Math.round(now() - tSetup);
    log(`group10k: ${M} members set up in ${groupMs} ms, ${ONLINE} online (+ ${ONLINE} relay) after ${setupMs} ms`);

    const send = {
      im: (content) => owner.sendGroupMessage({ groupId: group.id, content }),
      raw: (content) => emitAck(relaySender, 'group', { room: 'gk-room', chatType: 1, to: 'gk-room', content, msgType: 0 }),
    };
    // Sends `count` messages at once (pipelined) and waits until all are acked and every online
    // member has every one. With `measure`, also the server's rows written, event-loop delay and CPU.
    const shot = async (kind, tag, count = 1, measure = false) => {
      const c = { prefix: `${tag}#`, count: 0, first: 0, last: 0 };
      const m = measure ? { rows0: await server.call('dbChanges'), cpu0: await server.cpu() } : null;
      if (m) await server.call('loopStall', { start: true });
      current[kind] = c;
      const t0 = now();
      const acks = Promise.all(Array.from({ length: count }, (_, i) => send[kind](body(`${c.prefix}${i}`)))).then(() => now());
      await waitFor(() => c.count >= ONLINE * count, 120000, `${tag}: ${count} message(s) to all ${ONLINE} online members (${c.count} arrived)`);
      const tAck = await acks;
      current[kind] = null;
      const x = { lastMs: c.last - t0, firstMs: c.first - t0, ackMs: tAck - t0 };
      if (m) {
        const stall = await server.call('loopStall');
        const cpu1 = await server.cpu();
        x.rows = (await server.call('dbChanges')) - m.rows0;
        x.stallMaxMs = stall.maxMs;
        x.stallP99Ms = stall.p99Ms;
        x.serverCpuMs = Math.round((cpu1.user - m.cpu0.user + cpu1.system - m.cpu0.system) / 100) / 10;
      }
      return x;
    };
    await shot('raw', 'warm raw');
    await shot('im', 'warm im');
    const res = { im: [], raw: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const kind of ['raw', 'im']) {
        res[kind].push(await shot(kind, `gk ${kind} ${r}`, 1, kind === 'im'));
        await new Promise((r2) => setTimeout(r2, 50));
      }
    }
    const b = await shot('im', 'gk burst', BURST, true);

    // One member that was offline throughout catches up from where it joined, page by page.
    const late = await rawImClient(server, ids[ONLINE]);
    sockets.push(late);
    const expected = 1 + ROUNDS + BURST;
    const tSync = now();
    let synced = 0;
    let pages = 0;
    let afterSeq;
    for (;;) {
      const { data } = await emitAck(late, 'chat:group-sync', { groupId: group.id, ...(afterSeq === undefined ? {} : { afterSeq }), limit: 200 });
      pages++;
      synced += data.messages.length;
      if (!data.hasMore || !data.messages.length) break;
      afterSeq = data.messages[data.messages.length - 1].seq;
    }
    const syncMs = now() - tSync;

    const r3 = (v) => (v == null ? null : Math.round(v * 1000) / 1000);
    const im = res.im;
    const out = {
      members: M,
      online: ONLINE,
      offline: M - 1 - ONLINE,
      rounds: ROUNDS,
      onlineMembers: 'raw socket.io-client 4 connections, all in the suite process',
      sender: 'ImClient (web adapter), the owner',
      groupSetupMs: groupMs,
      setupMs,
      rowsPerMessage: r3(im.reduce((a, x) => a + x.rows, 0) / im.length),
      msLastOnline: r3(median(im.map((x) => x.lastMs))),
      ackMs: r3(median(im.map((x) => x.ackMs))),
      serverLoopStallMaxMs: r3(Math.max(...im.map((x) => x.stallMaxMs))),
      serverLoopStallP99Ms: r3(Math.max(...im.map((x) => x.stallP99Ms))),
      im: {
        last: stats(im.map((x) => x.lastMs)),
        first: stats(im.map((x) => x.firstMs)),
        ack: stats(im.map((x) => x.ackMs)),
        rows: im.map((x) => x.rows),
        stallMaxMs: stats(im.map((x) => x.stallMaxMs)),
        serverCpuMs: stats(im.map((x) => x.serverCpuMs)),
      },
      burst: {
        messages: BURST,
        ms: r3(b.ackMs),
        deliveredMs: r3(b.lastMs),
        stallMaxMs: b.stallMaxMs,
        stallP99Ms: b.stallP99Ms,
        rowsPerMessage: r3(b.rows / BURST),
        serverCpuMs: b.serverCpuMs,
      },
      offlineSync: { expected, messages: synced, pages, ms: r3(syncMs) },
      raw: { msLast: r3(median(res.raw.map((x) => x.lastMs))), last: stats(res.raw.map((x) => x.lastMs)), first: stats(res.raw.map((x) => x.firstMs)) },
    };
    out.ratio = ratio(out.msLastOnline, out.raw.msLast);
    log(`group10k: ${out.rowsPerMessage} rows/message; last of ${ONLINE} online after ${out.msLastOnline} ms (raw ${out.raw.msLast} ms); loop stall max ${out.serverLoopStallMaxMs} ms; burst of ${BURST} acked in ${out.burst.ms} ms`);
    return out;
  } finally {
    closeAll(sockets);
    await server.stop();
  }
}
