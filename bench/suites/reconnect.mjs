// Reconnect: a phone (ImClient from miniprogram_dist, weapp adapter, default options: reconnection
// delay 3 s) loses the network; while it is offline a message for it is stored by the server;
// then the network comes back (the wx runtime's setNetwork(true), i.e. wx.onNetworkStatusChange).
// Measured: from setNetwork(true) to the first caught-up message (`imchat`), and to `connect`.
// Baseline: weapp.socket.io (Socket.IO 3 for mini-programs) with the same 3 s reconnection delay on
// its own wx runtime, against the raw relay: from setNetwork(true) until it is connected again
// (it has no hook on the network event, so it waits for its backoff timer; no catch-up either).
import { body, log, now, once, ratio, sleep, startServer, stats, load, weappImClient, webImClient } from '../lib/common.mjs';

export async function run({ quick }) {
  const ROUNDS = quick ? 3 : 6;
  const OFFLINE = quick ? [500] : [500, 5000];
  const server = await startServer();
  const cleanup = [];
  try {
    await server.createUsers(['rc-a', 'rc-b']);
    const a = await webImClient(server, 'rc-a');
    cleanup.push(() => a.destroy());
    // WeChat logs an exception thrown in a wx callback and carries on; so do these phones (the
    // runtime's default re-throws, right for tests). Counted and reported.
    const callbackErrors = { sdk: [], baseline: [] };
    const b = await weappImClient(server, 'rc-b', {}, { onCallbackError: (e) => callbackErrors.sdk.push(String(e?.message ?? e)) }); // defaults: reconnectionDelay 3000
    cleanup.push(() => {
      b.destroy();
      b.phone.destroy();
    });
    let expected;
    b.on('imchat', (m) => {
      if (expected && m.content === expected.content) expected.resolve(now());
    });
    const sdk = {};
    for (const offlineMs of OFFLINE) {
      const toMessage = [];
      const toConnect = [];
      for (let r = 0; r < ROUNDS; r++) {
        if (b.getStatus() !== 'connected') await once(b, 'ready', 30000, 'B ready before the round');
        b.phone.setNetwork(false);
        await sleep(offlineMs);
        const content = body(`rc ${offlineMs} ${r}`);
        await a.sendPrivateMessage({ recipientId: 'rc-b', content }); // stored while B is offline
        const got = new Promise((resolve) => (expected = { content, resolve }));
        const connected = once(b, 'connect', 30000, 'B connect').then(() => now());
        const t0 = now();
        b.phone.setNetwork(true);
        const timeout = sleep(30000).then(() => {
          throw new Error('no caught-up message within 30 s');
        });
        const [tMsg, tConn] = await Promise.race([Promise.all([got, connected]), timeout]);
        toMessage.push(tMsg - t0);
        toConnect.push(tConn - t0);
        // The SDK forces at most one reconnect per 2 s: keep rounds further apart than that.
        await sleep(2200);
      }
      sdk[offlineMs] = { msToFirstMessage: stats(toMessage), msToConnect: stats(toConnect) };
    }

    // Baseline: weapp.socket.io over its own wx runtime (it needs the global wx).
    const testing = load.testing();
    const phone = testing.createWxRuntime({ onCallbackError: (e) => callbackErrors.baseline.push(String(e?.message ?? e)) });
    testing.installWx(phone);
    cleanup.push(() => {
      testing.uninstallWx();
      phone.destroy();
    });
    const io = load.weappIo();
    const base = {};
    for (const offlineMs of OFFLINE) {
      const toConnect = [];
      for (let r = 0; r < ROUNDS; r++) {
        const s = io(server.relayUrl, { transports: ['websocket'], reconnectionDelay: 3000, auth: { user: 'rc-base' }, forceNew: true });
        if (!s.connected) await once(s, 'connect', 15000, 'weapp.socket.io connect');
        phone.setNetwork(false);
        await sleep(offlineMs);
        const connected = once(s, 'connect', 30000, 'weapp.socket.io reconnect').then(() => now());
        const t0 = now();
        phone.setNetwork(true);
        toConnect.push((await connected) - t0);
        s.disconnect();
        s.close?.();
      }
      base[offlineMs] = { msToConnect: stats(toConnect) };
    }
    const first = OFFLINE[0];
    const out = {
      rounds: ROUNDS,
      offlineMs: OFFLINE,
      reconnectionDelay: 3000,
      sdk,
      baseline: base,
      msToFirstMessage: sdk[first].msToFirstMessage.p50,
      baselineMsToConnect: base[first].msToConnect.p50,
      callbackErrors: { sdk: callbackErrors.sdk.length, baseline: callbackErrors.baseline.length, examples: [...new Set([...callbackErrors.sdk, ...callbackErrors.baseline])].slice(0, 3) },
    };
    out.ratio = ratio(out.msToFirstMessage, out.baselineMsToConnect);
    log(`reconnect: first caught-up message after ${out.msToFirstMessage} ms (weapp.socket.io reconnects after ${out.baselineMsToConnect} ms)`);
    return out;
  } finally {
    for (const f of cleanup.reverse()) {
      try {
        f();
      } catch {
        /* closing anyway */
      }
    }
    await server.stop();
  }
}
