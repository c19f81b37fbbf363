// Group read receipts in a 10,000-member group: `POST /api/groups/:id/read-receipts` for the
// group's 20 newest messages, with half the members (4,999 of the 9,999 besides the sender) having
// read, spread over those messages (member i read up to message i mod 20, so each message has its
// own count). The counts come from the members' read positions (one range scan of the
// read_state_by_conv index shared by the 20 messages), not from per-reader rows.
// Baseline, same run, same group, same caller: a history page of the same 20 messages
// (`GET /api/groups/:id/messages?limitSize=20`). Also one page (100) of the read and of the unread
// members of the oldest of the 20, and the same receipts call in a 100-member group with the same
// pattern, to show the cost does not follow the group's size. All over raw HTTP (fetch) with a
// minted token, so the figures are the server's; SQLite, in the server's own process.
import { emitAck, log, now, pool, rawImClient, ratio, startServer, stats, token } from '../lib/common.mjs';

const MESSAGES = 20;

export async function run({ quick }) {
  const ROUNDS = quick ? 30 : 100;
  const server = await startServer();
  const sockets = [];
  try {
    const api = (method, path, body, who) =>
      fetch(`${server.apiUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token(who)}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then(async (r) => {
        const env = await r.json();
        if (env.code !== 0) throw new Error(`${method} ${path}: ${env.code} ${env.message}`);
        return env.data;
      });

    /** A group of `size` (owner included), 20 messages from the owner, half the others read as above. */
    const setUp = async (tag, size) => {
      const t0 = now();
      const owner = `${tag}-owner`;
      const ids = Array.from({ length: size - 1 }, (_, i) => `${tag}-m${i}`);
      await server.createUsers([owner, ...ids]);
      const g = await api('POST', '/api/groups', { name: `${tag} ${size}`, userIdList: ids.slice(0, 500) }, owner);
      for (let i = 500; i < ids.length; i += 500) await api('POST', `/api/groups/${g.id}/members`, { userIdList: ids.slice(i, i + 500) }, owner);
      const socket = await rawImClient(server, owner);
      sockets.push(socket);
      const sent = [];
      for (let i = 0; i < MESSAGES; i++) sent.push((await emitAck(socket, 'chat:send', { clientMsgId: `${tag}-c${i}`, chatType: 1, to: g.id, content: `message ${i}` })).data);
      const readers = ids.filter((_, i) => i % 2 === 0);
      await pool(readers.length, 20, (k) => api('POST', '/api/conversations/read', { chatType: 1, targetId: g.id, seq: sent[k % MESSAGES].seq }, readers[k]));
      // Reader k read messages 0..k mod 20: message j has been read by the readers with k mod 20 >= j.
      const expected = sent.map((_, j) => readers.filter((_, k) => k % MESSAGES >= j).length);
      const body = { messageIds: sent.map((m) => m.messageId) };
      const got = await api('POST', `/api/groups/${g.id}/read-receipts`, body, owner);
      got.forEach((r, j) => {
        if (r.readCount !== expected[j] || r.readCount + r.unreadCount !== size - 1) throw new Error(`${tag}: message ${j} counted ${r.readCount}/${r.unreadCount}, expected ${expected[j]}/${size - 1 - expected[j]}`);
      });
      log(`receipts: ${tag} group of ${size} set up in ${Math.round(now() - t0)} ms, ${readers.length} readers`);
      return { owner, groupId: g.id, body, oldest: sent[0].messageId, readers: readers.length };
    };

    const big = await setUp('rk', 10_000);
    const small = await setUp('rs', 100);
    const timed = async (f) => {
      const t = now();
      await f();
      return now() - t;
    };
    const calls = {
      receipts: () => api('POST', `/api/groups/${big.groupId}/read-receipts`, big.body, big.owner),
      history: () => api('GET', `/api/groups/${big.groupId}/messages?limitSize=${MESSAGES}`, undefined, big.owner),
      readPage: () => api('GET', `/api/groups/${big.groupId}/messages/${big.oldest}/read-members?filter=read&limit=100`, undefined, big.owner),
      unreadPage: () => api('GET', `/api/groups/${big.groupId}/messages/${big.oldest}/read-members?filter=unread&limit=100`, undefined, big.owner),
      smallReceipts: () => api('POST', `/api/groups/${small.groupId}/read-receipts`, small.body, small.owner),
      smallHistory: () => api('GET', `/api/groups/${small.groupId}/messages?limitSize=${MESSAGES}`, undefined, small.owner),
    };
    const times = Object.fromEntries(Object.keys(calls).map((k) => [k, []]));
    for (let w = 0; w < 5; w++) for (const f of Object.values(calls)) await f();
    // Interleaved, one call at a time: drift on the machine hits every variant alike.
    for (let r = 0; r < ROUNDS; r++) for (const [k, f] of Object.entries(calls)) times[k].push(await timed(f));
    const s = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, stats(v)]));
    const out = {
      members: 10_000,
      messages: MESSAGES,
      readers: big.readers,
      rounds: ROUNDS,
      caller: 'raw HTTP (fetch), the owner',
      ...s,
      ratio: ratio(s.receipts.p50, s.history.p50),
      smallMembers: 100,
      smallRatio: ratio(s.smallReceipts.p50, s.smallHistory.p50),
    };
    log(`receipts: ${MESSAGES} messages in a group of 10,000: ${s.receipts.p50} ms (history page ${s.history.p50} ms, ${out.ratio}x); group of 100: ${s.smallReceipts.p50} ms (${out.smallRatio}x)`);
    return out;
  } finally {
    for (const s of sockets.splice(0)) s.close();
    await server.stop();
  }
}
