// Turns results into the printed table and docs/benchmarks.md.

const n = (x, d = 0) => (x === null || x === undefined || Number.isNaN(x) ? '—' : Number(x).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const kb = (b) => (b == null ? '—' : `${n(b / 1024, 1)} KB`);
const ms = (x, d = 2) => (x == null ? '—' : `${n(x, d)} ms`);
const x = (r) => (r == null || !Number.isFinite(r) ? '—' : `${n(r, r < 0.1 ? 3 : 2)}×`);
const verdict = (ok) => (ok === null || ok === undefined ? '' : ok ? 'met' : 'not met');

/** The headline figures: [figure, value, baseline, ratio, goal]. */
export function summaryRows(r) {
  const rows = [];
  const s = r.size;
  if (s && !s.error) {
    rows.push(['Size: mini-program SDK, all of miniprogram_dist (gzip -9)', kb(s.miniprogramGzip), `weapp.socket.io alone ${kb(s.weappSocketIo?.gzip)}`, x(s.miniprogramGzip / s.weappSocketIo?.gzip), `≤ 32 KB: ${verdict(s.miniprogramGzip <= 32768)}`]);
    rows.push(['Size: web ESM dist/index.mjs, own code (gzip; minified)', `${kb(s.webEsm?.gzip)}; ${kb(s.webEsm?.minifiedGzip)}`, '', '', '']);
    rows.push(['Size: IIFE dist/comind-im-client-sdk.js, all inside (gzip)', kb(s.iife?.gzip), '', '', '']);
    const ok = (s.competitors ?? []).filter((c) => c.gzip);
    if (ok.length) {
      const smallest = ok.reduce((a, b) => (a.gzip < b.gzip ? a : b));
      rows.push(['Size: smallest other mini-program IM SDK measured', kb(smallest.gzip), `${smallest.name} ${smallest.version}`, x(smallest.gzip / s.miniprogramGzip), '']);
    }
  } else if (s?.error) rows.push(['Size', 'failed', '', '', '']);
  const cs = r.coldstart;
  if (cs && !cs.error && cs.sdks?.ours && !cs.sdks.ours.error) {
    const o = cs.sdks.ours;
    const f = cs.sdks[cs.fastestOther];
    const le = cs.sdks[cs.leanestOther];
    rows.push([`Cold start (wx sandbox): load + construct, median of ${cs.rounds} fresh processes`, ms(o.totalMs, 1), f ? `fastest other: ${f.package} ${ms(f.totalMs, 1)}` : '', x(cs.totalRatioToFastest), '']);
    rows.push(['Cold start: heap the SDK adds (load + construct, after GC)', kb(o.heapBytes), le ? `leanest other: ${le.package} ${kb(le.heapBytes)}` : '', x(cs.heapRatioToLeanest), '']);
    if (cs.connect?.n) rows.push([`Cold start: connect() → ready, local server (median of ${cs.connect.n} fresh processes)`, ms(cs.connect.msToReady.p50, 1), `second client, same process ${ms(cs.connect.msToReadySecondClient.p50, 1)}`, '', '']);
  } else if (cs?.error) rows.push(['Cold start', 'failed', '', '', '']);
  const l = r.latency;
  if (l && !l.error) {
    const raw = l.variants.raw.delivery;
    for (const [k, label] of [['web', 'web adapter'], ['weapp', 'weapp adapter, wx runtime']]) {
      const d = l.variants[k].delivery;
      rows.push([`Latency A→B, ImClient (${label}), p50 / p99, ${n(l.messages)} msgs`, `${ms(d.p50, 3)} / ${ms(d.p99, 3)}`, `raw relay ${ms(raw.p50, 3)} / ${ms(raw.p99, 3)}`, `${x(l.variants[k].p50Ratio)} / ${x(l.variants[k].p99Ratio)}`, k === 'web' ? `p50 ≤ 1.15×: ${verdict(l.p50Ratio <= 1.15)}` : '']);
    }
    const fl = l.variants.durable?.delivery;
    if (fl) {
      const d = l.variants.web.delivery;
      rows.push([`Latency A→B, ImClient (web) vs durable floor (sync ${l.durability === 'full' ? 'FULL' : 'NORMAL'}), p50 / p99`, `${ms(d.p50, 3)} / ${ms(d.p99, 3)}`, `durable floor ${ms(fl.p50, 3)} / ${ms(fl.p99, 3)}`, `${x(l.p50RatioDurable)} / ${x(l.p99RatioDurable)}`, `p50 ≤ 1.15×: ${verdict(l.p50RatioDurable <= 1.15)}`]);
    }
  } else if (l?.error) rows.push(['Latency', 'failed', '', '', '']);
  const t = r.throughput;
  if (t && !t.error) {
    const raw = t.variants.raw.perSec;
    rows.push([`Throughput, ImClient (web), window ${t.window}, persisted`, `${n(t.variants.web.perSec)} msg/s`, `raw relay ${n(raw)} msg/s`, x(t.ratio), `≥ 0.8×: ${verdict(t.ratio >= 0.8)}`]);
    rows.push([`Throughput, ImClient (weapp, wx runtime)`, `${n(t.variants.weapp.perSec)} msg/s`, `raw relay ${n(raw)} msg/s`, x(t.weappRatio), '']);
    if (t.variants.durable) {
      rows.push([`Throughput, ImClient (web) vs durable floor (sync ${t.durability === 'full' ? 'FULL' : 'NORMAL'}), window ${t.window}`, `${n(t.variants.web.perSec)} msg/s`, `durable floor ${n(t.variants.durable.perSec)} msg/s`, x(t.ratioDurable), `≥ 0.8×: ${verdict(t.ratioDurable >= 0.8)}`]);
    }
  } else if (t?.error) rows.push(['Throughput', 'failed', '', '', '']);
  const f = r.fanout;
  if (f && !f.error) {
    rows.push([`Fan-out to ${n(f.groupSize)} online members, until the last has it (median of ${f.rounds})`, ms(f.msLast, 1), `raw broadcast ${ms(f.raw.last.p50, 1)}`, x(f.ratio), f.groupSize === 1000 ? '' : 'fanout.ms1000: needs 1,000 members']);
  } else if (f?.error) rows.push(['Fan-out', 'failed', '', '', '']);
  const g = r.group10k;
  if (g && !g.error) {
    const G = `Group of ${n(g.members)}`;
    rows.push([`${G} (${n(g.online)} online, one process): last online member has it (median of ${g.rounds})`, ms(g.msLastOnline, 1), `raw broadcast ${ms(g.raw.msLast, 1)}`, x(g.ratio), '']);
    rows.push([`${G}: storage rows written per message; send → ack (median)`, `${n(g.rowsPerMessage, 1)} rows; ${ms(g.ackMs, 1)}`, '', '', '']);
    rows.push([`${G}: server event-loop stall per message, max / p99`, `${ms(g.serverLoopStallMaxMs, 1)} / ${ms(g.serverLoopStallP99Ms, 1)}`, '', '', '']);
    rows.push([`${G}: ${n(g.burst.messages)} sends pipelined, all acked; server stall max`, `${ms(g.burst.ms, 0)}; stall ${ms(g.burst.stallMaxMs, 0)}`, '', '', '']);
  } else if (g?.error) rows.push(['Group of 10,000', 'failed', '', '', '']);
  const gr = r.receipts;
  if (gr && !gr.error) {
    rows.push([`Group read receipts: ${n(gr.messages)} messages in a group of ${n(gr.members)}, ${n(gr.readers)} having read (p50)`, ms(gr.receipts.p50, 2), `history page of the same ${n(gr.messages)} ${ms(gr.history.p50, 2)}`, x(gr.ratio), '']);
  } else if (gr?.error) rows.push(['Group read receipts', 'failed', '', '', '']);
  const c = r.connections;
  if (c && !c.error) {
    for (const [count, run] of Object.entries(c.runs ?? {})) {
      rows.push([`Connections: ${n(Number(count))} authenticated, connect all (${c.concurrency} at a time)`, `${n(run.im.connectAllMs / 1000, 1)} s (${n(run.im.perSecond)}/s)`, `raw relay ${n(run.relay.connectAllMs / 1000, 1)} s`, x(run.im.connectAllMs / run.relay.connectAllMs), '']);
      rows.push([`Connections: ${n(Number(count))}, server memory per connection (RSS; V8 heap)`, `${kb(run.im.serverRssBytesPerConn)}; ${kb(run.im.serverHeapBytesPerConn)}`, `raw relay ${kb(run.relay.serverRssBytesPerConn)}; ${kb(run.relay.serverHeapBytesPerConn)}`, x(run.im.serverHeapBytesPerConn / run.relay.serverHeapBytesPerConn), '']);
    }
    for (const note of c.notes ?? []) rows.push([`Connections: ${note}`, '', '', '', '']);
  } else if (c?.error) rows.push(['Connections', 'failed', '', '', '']);
  const rc = r.reconnect;
  if (rc && !rc.error) {
    rows.push([`Reconnect (weapp, delay ${rc.reconnectionDelay / 1000} s): network back → first caught-up message`, ms(rc.msToFirstMessage, 1), `weapp.socket.io reconnects after ${ms(rc.baselineMsToConnect, 0)}`, x(rc.ratio), `< 1 s: ${verdict(rc.msToFirstMessage < 1000)}`]);
  } else if (rc?.error) rows.push(['Reconnect', 'failed', '', '', '']);
  const cl = r.cluster;
  if (cl && !cl.error && !cl.skipped) {
    const base = cl.runs.sqlite1;
    for (const k of ['pg1', 'pg2', 'pg3']) {
      const v = cl.runs[k];
      if (!v) continue;
      rows.push([`Cluster: ${k.slice(2)} node(s) on PostgreSQL + Redis, ${cl.pairs} pairs across nodes, throughput; CPU per message (nodes + PostgreSQL)`, `${n(v.perSec)} msg/s; ${n(v.nodeCpuUsPerMsg + v.postgresCpuUsPerMsg)} µs`, `one SQLite process ${n(base.perSec)} msg/s; ${n(base.nodeCpuUsPerMsg)} µs`, x(v.throughputRatio), '']);
    }
  } else if (cl?.error) rows.push(['Cluster', 'failed', '', '', '']);
  else if (cl?.skipped) rows.push([`Cluster: not measured (${cl.skipped})`, '', '', '', '']);
  const m = r.memory;
  if (m && !m.error) {
    rows.push([`Client heap per 10,000 kept messages, ImClient (web)`, `${n(m.variants.web.mbPer10k, 2)} MB`, `raw socket.io-client ${n(m.variants.raw.mbPer10k, 2)} MB`, x(m.variants.web.ratio), '']);
    rows.push([`Client heap per 10,000 kept messages, ImClient (weapp)`, `${n(m.variants.weapp.mbPer10k, 2)} MB`, `raw socket.io-client ${n(m.variants.raw.mbPer10k, 2)} MB`, x(m.variants.weapp.ratio), '']);
  } else if (m?.error) rows.push(['Client memory', 'failed', '', '', '']);
  rows.push(...peerRows(r.peers));
  return rows;
}

/** The peers suite's headline rows: ours against ejabberd and Prosody, fsync per commit on all sides. */
function peerRows(p) {
  if (!p) return [];
  if (p.error) return [['Peers (ejabberd, Prosody)', 'failed', '', '', '']];
  const rows = [];
  const o = p.ours?.levels?.full ?? {};
  const lastCount = (mem) => Object.keys(mem ?? {}).filter((k) => /^\d+$/.test(k)).sort((a, b) => b - a)[0];
  for (const name of ['ejabberd', 'prosody']) {
    const e = p[name];
    const label = `${name === 'ejabberd' ? 'ejabberd' : 'Prosody'}${e?.version ? ` ${e.version}` : ''}`;
    if (!e || e.skipped) {
      rows.push([`Peers: ${label} not measured (${e?.skipped ?? 'no result'})`, '', '', '', '']);
      continue;
    }
    const t = e.levels.full ?? {};
    const ok = (v) => v && !v.error;
    if (ok(o.latency) && ok(t.latency)) rows.push([`Peers, fsync per commit: latency A→B p50 / p99, ours vs ${label}`, `${ms(o.latency.delivery.p50, 2)} / ${ms(o.latency.delivery.p99, 2)}`, `${ms(t.latency.delivery.p50, 2)} / ${ms(t.latency.delivery.p99, 2)}`, x(e.latencyP50Ratio), `< 1×: ${verdict(e.latencyP50Ratio < 1)}`]);
    if (ok(o.throughput) && ok(t.throughput)) rows.push([`Peers, fsync per commit: throughput, window 100, ours vs ${label}`, `${n(o.throughput.perSec)} msg/s`, `${n(t.throughput.perSec)} msg/s`, x(e.throughputRatio), `≥ 3×: ${verdict(e.throughputRatio >= 3)}`]);
    if (ok(o.fanout) && ok(t.fanout)) rows.push([`Peers, fsync per commit: fan-out to ${n(t.fanout.members)}, last member, ours vs ${label}`, ms(o.fanout.msLast, 1), ms(t.fanout.msLast, 1), x(e.fanout1000Ratio), '']);
    const oc = lastCount(o.memory);
    const tc = lastCount(t.memory);
    if (ok(o.memory) && ok(t.memory)) rows.push([`Peers: server RSS per idle authenticated connection at ${n(Number(tc))} (WebSocket, fresh server), ours vs ${label}`, kb(o.memory[oc].bytesPerConnection), kb(t.memory[tc].bytesPerConnection), x(e.memoryPerConnectionRatio), `≤ 0.5×: ${verdict(e.memoryPerConnectionRatio <= 0.5)}`]);
    if (e.nosync) rows.push([`Peers, no fsync per commit: latency p50 / throughput / fan-out, ours / ${label}`, `${x(e.nosync.latencyP50Ratio)} / ${x(e.nosync.throughputRatio)} / ${x(e.nosync.fanout1000Ratio)}`, '', '', '']);
  }
  return rows;
}

/** Ours, ejabberd and Prosody side by side, per durability level. */
function peerDetails(p) {
  const out = [];
  const sides = ['ours', 'ejabberd', 'prosody'].filter((k) => p[k] && !p[k].skipped);
  const head = (k) => (k === 'ours' ? 'ours (IM server)' : `${k === 'ejabberd' ? 'ejabberd' : 'Prosody'} ${p[k].version ?? ''}`.trim());
  const cell = (k, level, f) => {
    const l = p[k]?.levels?.[level];
    if (!l || l.skipped) return l?.skipped ? 'not started' : '—';
    try {
      return f(l);
    } catch {
      return '—';
    }
  };
  const err = (v) => (v?.error ? `failed: ${v.error.slice(0, 80)}` : null);
  const cpu = (v) => `client ${n(v.clientCpuPct)} %, server ${n(v.serverCpuPct)} %`;
  for (const level of ['full', 'nosync']) {
    out.push(`Durability "${level}": ${p.levels?.[level] ?? ''}.`, '');
    const rows = [
      ['latency A→B p50 / p99', (l) => err(l.latency) ?? `${ms(l.latency.delivery.p50, 2)} / ${ms(l.latency.delivery.p99, 2)}`],
      ['  ack (stored) p50', (l) => err(l.latency) ?? ms(l.latency.ack.p50, 2)],
      ['  CPU during latency', (l) => err(l.latency) ?? cpu(l.latency)],
      [`throughput, window 100 (${n(p.counts?.throughputMessages)} msgs)`, (l) => err(l.throughput) ?? `${n(l.throughput.perSec)} msg/s`],
      ['  CPU during throughput', (l) => err(l.throughput) ?? cpu(l.throughput)],
      [`fan-out to ${n(p.counts?.fanoutMembers)}, last member (median)`, (l) => err(l.fanout) ?? ms(l.fanout.msLast, 1)],
      ['  CPU during fan-out', (l) => err(l.fanout) ?? cpu(l.fanout)],
    ];
    if (level === 'full') {
      // The runtime's own heap count beside the RSS: V8 heapUsed, erlang:memory(total), Lua collectgarbage("count").
      const mem = (m, c) => (m ? (err(m) ?? `${kb(m[c]?.bytesPerConnection)}; ${kb(m[c]?.vmBytesPerConnection)}`) : '—');
      for (const c of p.counts?.memoryConnections ?? []) rows.push([`server RSS per idle authenticated connection at ${n(c)}, WebSocket (fresh server; runtime heap)`, (l) => mem(l.memory, c)]);
      for (const c of p.counts?.memoryConnections ?? []) rows.push([`  the same over plain TCP c2s at ${n(c)} (the peers only)`, (l) => mem(l.memoryTcp, c)]);
      rows.push(['  logins per second (SCRAM for the peers, a token for ours); client CPU', (l) => err(l.memory) ?? `${n(l.memory.loginsPerSec)}/s; ${n(l.memory.clientCpuPct)} %`]);
      rows.push(['reconnect: new connection → first missed message (median)', (l) => err(l.reconnect) ?? ms(l.reconnect.msToFirstMissed.p50, 1)]);
    }
    out.push(mdTable(['', ...sides.map(head)], rows.map(([label, f]) => [label, ...sides.map((k) => cell(k, level, f))])), '');
  }
  for (const k of ['ejabberd', 'prosody']) if (p[k]?.skipped) out.push(`${k}: skipped: ${p[k].skipped}`, '');
  return out.join('\n');
}

const HEAD = ['figure', 'value', 'baseline (same run)', 'ratio', 'goal'];

export function textTable(rows) {
  const all = [HEAD, ...rows];
  const w = HEAD.map((_, i) => Math.min(i === 0 ? 78 : 44, Math.max(...all.map((r) => String(r[i]).length))));
  const line = (r) => r.map((c, i) => String(c).slice(0, w[i]).padEnd(w[i])).join('  ').trimEnd();
  return [line(HEAD), w.map((k) => '-'.repeat(k)).join('  '), ...rows.map(line)].join('\n');
}

function mdTable(head, rows) {
  const esc = (c) => String(c ?? '').replace(/\|/g, '\\|');
  return [`| ${head.map(esc).join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

function runLine(r) {
  const mc = r.machine;
  return `${r.mode} run of ${r.date.slice(0, 10)} (${r.date.slice(11, 16)} UTC), ${r.durationSeconds} s, commit ${r.commit}${r.workingTreeDirty ? ' with uncommitted changes in src/adapters/server' : ''}; ${mc.cores} cores (${mc.cpuModel}), ${mc.memoryGB} GB, Node ${mc.node}, ${mc.platform}, open-file limit ${mc.openFileLimit}${r.loadAverage ? `; load average ${r.loadAverage.atStart[0]} at the start, ${r.loadAverage.atEnd[0]} at the end (anything above 0 is other work on the machine)` : ''}${r.buildError ? `; ${r.buildError}` : ''}${r.lastPartialRun ? `; this line is of the last partial run (${r.lastPartialRun.join(', ')}): the other suites' figures are from earlier runs` : ''}`;
}

/** What the durable floor is, under its table. */
function durableNote(durability) {
  const sync = durability === 'full' ? 'FULL` (an fsync per commit)' : 'NORMAL` (no fsync per commit)';
  return `The durable relay floor runs beside the raw relay in the server's process: raw Socket.IO plus exactly one prepared SQLite \`INSERT\` per message, the inserts of one event-loop turn committed in one transaction (as the server's group commit), then the emit to the recipient's room and the ack. Its file has the server's settings (WAL, \`synchronous = ${sync}, the same checkpointer thread; \`IM_DURABILITY=${durability ?? 'normal'}\` for both). It is the least a server that stores before it acknowledges must do; the IM server's extra over it is validation, sequence numbers, inboxes and the SDK.`;
}

function details(r) {
  const out = [];
  const s = r.size;
  if (s && !s.error) {
    out.push('#### Size (gzip -9 via zlib)', '');
    const rows = [
      ['comind-im-client-sdk', 'miniprogram_dist/ (all files)', n(s.miniprogram.bytes), n(s.miniprogramGzip), '1.0×'],
      ['comind-im-client-sdk', 'dist/index.mjs (own code, not minified)', n(s.webEsm.bytes), n(s.webEsm.gzip), ''],
      ['comind-im-client-sdk', 'dist/index.mjs minified (what a bundler emits)', n(s.webEsm.minifiedBytes), n(s.webEsm.minifiedGzip), ''],
      ['comind-im-client-sdk', 'dist/comind-im-client-sdk.js (IIFE, all inside)', n(s.iife.bytes), n(s.iife.gzip), ''],
      [`weapp.socket.io ${s.weappSocketIo.version}`, `${s.weappSocketIo.files?.[0]?.file ?? 'main'} (Socket.IO 3 only)`, n(s.weappSocketIo.bytes), n(s.weappSocketIo.gzip), x(s.weappSocketIo.gzip / s.miniprogramGzip)],
    ];
    for (const c of s.competitors ?? []) {
      if (c.error) rows.push([c.name, `${c.entry}: not measured (${c.error})`, '', '', '']);
      else rows.push([`${c.name} ${c.version}`, c.entry + (c.withExtras ? ` (+ ${c.withExtras.files.join(', ')}: ${n(c.withExtras.gzip)} B gzip)` : ''), n(c.bytes), n(c.gzip), x(c.gzip / s.miniprogramGzip)]);
    }
    out.push(mdTable(['package', 'file(s) a mini-program loads', 'bytes', 'gzip bytes', 'vs SDK'], rows), '');
  }
  const cs = r.coldstart;
  if (cs && !cs.error && cs.sdks) {
    out.push(`#### Cold start (each SDK's mini-program build loaded and its client constructed in a fresh process, in a mini-program realm with only \`wx\` and no network; median of ${cs.rounds} rounds, interleaved; heap after GC, ${cs.settleMs} ms after construction)`, '');
    const rows = [];
    for (const [id, v] of Object.entries(cs.sdks)) {
      const name = `${v.package}${v.version ? ` ${v.version}` : ''}`;
      if (v.error) {
        rows.push([name, v.entry ?? '', v.options, v.error, '', '', '', '', '', '']);
        continue;
      }
      const vs = id === 'ours' ? '1.0× / 1.0× / 1.0×' : `${x(v.oursTotalRatio)} / ${x(v.oursHeapRatio)} / ${x(v.oursGzipRatio)}`;
      rows.push([name, v.entry, `\`${v.options}\``, ms(v.totalMs, 1), ms(v.loadMs, 1), ms(v.constructMs, 1), kb(v.heapBytes), kb(v.gzip), n(v.networkCalls), vs]);
    }
    out.push(mdTable(['SDK', 'file', 'client constructed with', 'load + construct', 'load', 'construct', 'heap added', 'gzip', 'network attempts', 'ours ÷ theirs (time / heap / gzip)'], rows), '');
    const c = cs.connect;
    if (c?.n) out.push(`Ours, \`connect()\` → \`ready\` against a local reference server (started before, not counted): ${ms(c.msToReady.p50, 1)} median (p90 ${ms(c.msToReady.p90, 1)}) for the first client of a fresh process (of which ${ms(c.msToConnected?.p50, 1)} until the session is accepted, status \`connected\`; the rest is the catch-up sync), ${ms(c.msToReadySecondClient.p50, 1)} for a second client in the same process (code compiled and warm).`, '');
    const attempts = Object.values(cs.sdks).filter((v) => v.networkCalls);
    if (attempts.length) out.push(`Network attempts during load, construction and the ${cs.settleMs} ms after it (refused by the phone's empty domain lists, so nothing left the machine): ${attempts.map((v) => `${v.package}: ${[...new Set(v.network.map((c) => `${c.api} ${c.url.replace(/\?.*$/, '')}`))].join(', ')}`).join('; ')}.`, '');
    const probs = Object.values(cs.sdks).filter((v) => v.problems?.length);
    if (probs.length) out.push(`Errors the SDKs raised in the background while starting (not failures of the measurement): ${probs.map((v) => `${v.package}: ${v.problems.length} (${v.problems[0]})`).join('; ')}.`, '');
  }
  const l = r.latency;
  if (l && !l.error) {
    out.push(`#### Latency A→B (${n(l.messages)} messages per variant after ${l.warmup} warm-up, one at a time, ${l.contentBytes}-character bodies, interleaved in blocks of ${l.block})`, '');
    const names = { raw: 'raw relay (baseline)', durable: 'durable relay floor (baseline: raw relay + one SQLite insert per message)', imRaw: 'socket.io-client → IM server (no SDK)', web: 'ImClient web → ImClient web', webNoRcpt: 'ImClient web, autoDeliveryReceipt off', weapp: 'ImClient weapp → ImClient weapp (wx runtime)' };
    out.push(mdTable(['variant', 'p50', 'p90', 'p99', 'max', 'ack p50', 'p50 ratio', 'p99 ratio', 'p50 vs durable floor', 'p99 vs durable floor'], Object.entries(l.variants).map(([k, v]) => [names[k] ?? k, ms(v.delivery.p50, 3), ms(v.delivery.p90, 3), ms(v.delivery.p99, 3), ms(v.delivery.max, 1), ms(v.ack.p50, 3), x(v.p50Ratio), x(v.p99Ratio), x(v.p50RatioDurable), x(v.p99RatioDurable)])), '');
    if (l.variants.durable) out.push(durableNote(l.durability), '');
  }
  const t = r.throughput;
  if (t && !t.error) {
    out.push(`#### Throughput (${n(t.messages)} messages per round, window ${t.window}, best of ${t.rounds} rounds)`, '');
    const names = { raw: 'raw relay (baseline)', durable: 'durable relay floor (baseline: raw relay + one SQLite insert per message)', imRaw: 'socket.io-client → IM server (no SDK)', web: 'ImClient web', weapp: 'ImClient weapp (wx runtime)' };
    out.push(mdTable(['variant', 'msg/s', 'ratio', 'vs durable floor', 'server CPU µs/msg', 'client CPU µs/msg'], Object.entries(t.variants).map(([k, v]) => [names[k] ?? k, n(v.perSec), x(v.ratio), x(v.ratioDurable), n(v.serverCpuUsPerMsg, 1), n(v.clientCpuUsPerMsg, 1)])), '');
    if (t.variants.durable) out.push(durableNote(t.durability), '');
  }
  const f = r.fanout;
  if (f && !f.error) {
    out.push(`#### Fan-out (group of ${n(f.groupSize)}, all online; ${f.rounds} rounds; members: ${f.members}; sender: ${f.sender})`, '');
    out.push(mdTable(['variant', 'last member (median)', 'last (max)', 'first member', 'median member', 'server CPU per message'], [
      ['IM server, group message', ms(f.im.last.p50, 1), ms(f.im.last.max, 1), ms(f.im.first.p50, 1), ms(f.im.medianMember.p50, 1), ms(f.im.serverCpuMs.p50, 1)],
      ['raw relay, room broadcast', ms(f.raw.last.p50, 1), ms(f.raw.last.max, 1), ms(f.raw.first.p50, 1), ms(f.raw.medianMember.p50, 1), ms(f.raw.serverCpuMs.p50, 1)],
    ]), '');
  }
  const g = r.group10k;
  if (g && !g.error) {
    out.push(`#### Group of ${n(g.members)} (read diffusion; ${n(g.online)} members online, ${n(g.offline)} offline; ${g.rounds} rounds; online members: ${g.onlineMembers}; sender: ${g.sender})`, '');
    out.push(mdTable(['variant', 'last online member (median)', 'last (max)', 'first member', 'ack (median)', 'server CPU', 'server loop stall max (p99)', 'rows written per message'], [
      ['IM server, one group message', ms(g.im.last.p50, 1), ms(g.im.last.max, 1), ms(g.im.first.p50, 1), ms(g.im.ack.p50, 1), ms(g.im.serverCpuMs.p50, 1), `${ms(g.serverLoopStallMaxMs, 1)} (${ms(g.serverLoopStallP99Ms, 1)})`, n(g.rowsPerMessage, 1)],
      [`IM server, ${n(g.burst.messages)} messages pipelined (whole burst)`, ms(g.burst.deliveredMs, 0), '', '', ms(g.burst.ms, 0), ms(g.burst.serverCpuMs, 0), `${ms(g.burst.stallMaxMs, 1)} (${ms(g.burst.stallP99Ms, 1)})`, n(g.burst.rowsPerMessage, 1)],
      ['raw relay, room broadcast', ms(g.raw.last.p50, 1), ms(g.raw.last.max, 1), ms(g.raw.first.p50, 1), '', '', '', ''],
    ]), '');
    if (g.offlineSync) out.push(`A member offline throughout, connecting afterwards, caught up with \`chat:group-sync\`: ${n(g.offlineSync.messages)} of ${n(g.offlineSync.expected)} messages in ${n(g.offlineSync.pages)} page(s), ${ms(g.offlineSync.ms, 1)}. Group set-up (owner + ${n(g.members - 1)} members, 500 per call): ${n(g.groupSetupMs / 1000, 1)} s.`, '');
  }
  const gr = r.receipts;
  if (gr && !gr.error) {
    out.push(`#### Group read receipts (a group of ${n(gr.members)}, ${n(gr.readers)} members having read, spread over the ${n(gr.messages)} newest messages; ${gr.rounds} rounds, interleaved; caller: ${gr.caller}; SQLite)`, '');
    const row = (label, v, base) => [label, ms(v.p50, 2), ms(v.p90, 2), ms(v.p99, 2), ms(v.max, 1), base ? x(v.p50 / base.p50) : ''];
    out.push(mdTable(['request', 'p50', 'p90', 'p99', 'max', 'p50 ratio'], [
      row(`POST read-receipts, ${n(gr.messages)} messages`, gr.receipts, gr.history),
      row(`GET history page of the same ${n(gr.messages)} (baseline)`, gr.history, gr.history),
      row('GET read-members, filter=read, 100 of the oldest message', gr.readPage, gr.history),
      row('GET read-members, filter=unread, 100 of the oldest message', gr.unreadPage, gr.history),
      row(`POST read-receipts, ${n(gr.messages)} messages, group of ${n(gr.smallMembers)}`, gr.smallReceipts, gr.smallHistory),
      row(`GET history page, group of ${n(gr.smallMembers)} (its baseline)`, gr.smallHistory, gr.smallHistory),
    ]), '');
  }
  const c = r.connections;
  if (c && !c.error) {
    out.push(`#### Connections (${c.clients}; ${c.concurrency} handshakes in flight; server in its own process, memory after a full GC)`, '');
    const rows = [];
    for (const [count, run] of Object.entries(c.runs ?? {})) {
      for (const [k, v] of [['IM server', run.im], ['raw relay', run.relay]]) {
        rows.push([n(Number(count)), k, `${n(v.connectAllMs / 1000, 2)} s`, n(v.perSecond), ms(v.connectMs.p50, 1), ms(v.connectMs.p99, 1), kb(v.serverRssBytesPerConn), kb(v.serverHeapBytesPerConn), `${n(v.serverRssMB)} MB`, kb(v.clientHeapBytesPerConn)]);
      }
    }
    out.push(mdTable(['connections', 'server', 'all connected', 'per s', 'connect p50', 'connect p99', 'server RSS / conn', 'server heap / conn', 'server RSS', 'client heap / conn'], rows), '');
    for (const note of c.notes ?? []) out.push(`Note: ${note}.`, '');
  }
  const cl = r.cluster;
  if (cl && !cl.error && !cl.skipped) {
    out.push(`#### Cluster (${n(cl.messages)} messages per configuration from ${cl.pairs} sender/recipient pairs on different nodes, ${cl.window} in flight per sender; durable PostgreSQL (fsync on) and Redis on this machine; ${cl.cores} cores shared by everything)`, '');
    const names = { sqlite1: 'one process, SQLite (baseline)', pg1NoRedis: '1 node, PostgreSQL, no Redis', pg1: '1 node, PostgreSQL + Redis', pg2: '2 nodes, PostgreSQL + Redis', pg3: '3 nodes, PostgreSQL + Redis' };
    out.push(mdTable(['configuration', 'msg/s', 'ratio', 'latency under load p50 / p99', 'latency alone p50 / p99', 'node CPU µs/msg', 'PostgreSQL CPU µs/msg', 'Redis CPU µs/msg'], Object.entries(cl.runs).map(([k, v]) => [names[k] ?? k, n(v.perSec), x(v.throughputRatio), `${ms(v.loadedLatency.p50, 1)} / ${ms(v.loadedLatency.p99, 1)}`, `${ms(v.idleLatency.p50, 2)} / ${ms(v.idleLatency.p99, 2)}`, n(v.nodeCpuUsPerMsg), n(v.postgresCpuUsPerMsg), n(v.redisCpuUsPerMsg)])), '');
    for (const note of cl.notes ?? []) out.push(`Note: ${note}`, '');
  }
  const rc = r.reconnect;
  if (rc && !rc.error) {
    out.push(`#### Reconnect (weapp adapter on the wx runtime, reconnectionDelay ${rc.reconnectionDelay} ms, ${rc.rounds} rounds per offline time)`, '');
    const rows = [];
    for (const off of rc.offlineMs) {
      rows.push([`${n(off)} ms`, 'ImClient: network back → first caught-up message', ms(rc.sdk[off].msToFirstMessage.p50, 1), ms(rc.sdk[off].msToFirstMessage.max, 1)]);
      rows.push([`${n(off)} ms`, 'ImClient: network back → connected', ms(rc.sdk[off].msToConnect.p50, 1), ms(rc.sdk[off].msToConnect.max, 1)]);
      rows.push([`${n(off)} ms`, 'weapp.socket.io: network back → connected (baseline)', ms(rc.baseline[off].msToConnect.p50, 0), ms(rc.baseline[off].msToConnect.max, 0)]);
    }
    out.push(mdTable(['offline for', 'what', 'median', 'max'], rows), '');
  }
  const m = r.memory;
  if (m && !m.error) {
    out.push(`#### Client memory (${n(m.messages)} messages of ${m.contentBytes} characters kept in an array; heap after full GC)`, '');
    const names = { raw: 'raw socket.io-client (baseline)', web: 'ImClient web', weapp: 'ImClient weapp (wx runtime)' };
    out.push(mdTable(['receiver', 'bytes per message', 'MB per 10,000', 'ratio'], Object.entries(m.variants).map(([k, v]) => [names[k] ?? k, n(v.bytesPerMessage), n(v.mbPer10k, 2), x(v.ratio)])), '');
  }
  if (r.peers && !r.peers.error) out.push(`#### Peers: ours vs ejabberd vs Prosody (same machine, same workloads; configs in \`bench/peers/\`, see its README.md)`, '', peerDetails(r.peers), '');
  const p = r.profile;
  if (p && !p.error) {
    out.push(`#### Profile (throughput workload, ${n(p.messages)} messages, sampling every ${p.samplingIntervalUs} µs; self time, native calls counted for their JavaScript caller; line numbers are of the built files)`, '');
    const comp = (list) => list.slice(0, 8).map((c) => `${c.name} ${n(c.pct, 1)} %`).join(', ');
    out.push(`IM server during ImClient sends (${n(p.im.perSec)} msg/s): ${comp(p.im.server.components)}.`, '');
    out.push(mdTable(['IM server: function', 'where', 'self %'], p.im.server.functions.slice(0, 12).map((f) => [f.name, f.where, n(f.pct, 1)])), '');
    out.push(`Raw relay during the same workload (${n(p.relay.perSec)} msg/s): ${comp(p.relay.server.components)}.`, '');
    out.push(`Client process (ImClient sender + raw receiver): ${comp(p.im.client.components)}.`, '');
    out.push(mdTable(['client: function', 'where', 'self %'], p.im.client.functions.slice(0, 10).map((f) => [f.name, f.where, n(f.pct, 1)])), '');
    if (p.fanout) {
      out.push(`IM server during group fan-out to ${n(p.fanout.members)} online members (${n(p.fanout.serverCpuMsPerMessage, 1)} ms server CPU per message): ${comp(p.fanout.server.components)}.`, '');
      out.push(mdTable(['fan-out: function', 'where', 'self %'], p.fanout.server.functions.slice(0, 10).map((f) => [f.name, f.where, n(f.pct, 1)])), '');
    }
    if (p.connect) {
      out.push(`IM server during ${n(p.connect.connections)} connection handshakes (${n(p.connect.serverCpuUsPerConnection)} µs server CPU per connection): ${comp(p.connect.server.components)}.`, '');
      out.push(mdTable(['handshakes: function', 'where', 'self %'], p.connect.server.functions.slice(0, 10).map((f) => [f.name, f.where, n(f.pct, 1)])), '');
    }
    const st = p.storage;
    out.push(`Storage alone (server/dist SqliteStorage on a temp dir, ${n(st.sends)} private sends): ${n(st.usPerSendOwnTransaction, 1)} µs per send in its own transaction (p50 ${n(st.usPerSendEach.p50, 0)} µs, p99 ${n(st.usPerSendEach.p99, 0)} µs, max ${n(st.usPerSendEach.max / 1000, 1)} ms), ${n(st.usPerSend100PerTransaction, 1)} µs per send with 100 sends per transaction${st.withoutAutoCheckpoint ? `; with automatic WAL checkpoints off ${n(st.withoutAutoCheckpoint.usPerSend, 1)} µs (p99 ${n(st.withoutAutoCheckpoint.usPerSendEach.p99, 0)} µs, max ${n(st.withoutAutoCheckpoint.usPerSendEach.max / 1000, 1)} ms)` : ''}; the lookups before each send (${st.note.replace(/^lookups: /, '')}) ${n(st.usLookupsPerSend, 1)} µs.`, '');
    if (p.token) {
      const tk = p.token;
      out.push(`Tokens (jsonwebtoken as the server calls it, HS256): verify ${n(tk.usVerifyStringSecret, 1)} µs with the app secret as a string, ${n(tk.usVerifyKeyObject, 1)} µs with the same secret as a KeyObject (crypto.createSecretKey) made once; sign ${n(tk.usSignStringSecret, 1)} µs vs ${n(tk.usSignKeyObject, 1)} µs.`, '');
    }
  }
  return out.join('\n');
}

/** Full-run figures before the fixes of the findings and now, matched by figure. */
function beforeAfter(before, after) {
  const was = new Map(summaryRows(before).map((r) => [r[0], r]));
  const rows = [];
  for (const r of summaryRows(after)) {
    const b = was.get(r[0]);
    if (!b || r[0].startsWith('Size')) continue;
    rows.push([r[0], b[1], b[3], r[1], r[3]]);
  }
  return mdTable(['figure (full run)', 'before', 'ratio before', 'after', 'ratio after'], rows);
}

export function markdown({ full, quick, findings, before }) {
  const out = [];
  out.push('# Benchmarks', '');
  out.push('Generated by `npm run bench` (full) and `npm run bench -- --quick` from `bench/results.full.json` and `bench/results.quick.json`; the prose at the end comes from `bench/findings.md`. Benchmarks never assert timings and never run in `npm test`. Every figure has a baseline measured in the same run on the same machine, and ratios are to that baseline.', '');
  for (const [label, r] of [['Full run', full], ['Quick run', quick]]) {
    if (!r) continue;
    out.push(`## ${label}`, '', runLine(r), '');
    out.push(mdTable(HEAD, summaryRows(r)), '');
  }
  if (before && full) {
    out.push('## Before and after the fixes', '');
    out.push(`Before: ${runLine(before)}. After: the full run above. The fixes are those of the findings below (each says what it changed); the baselines are re-measured in each run, so compare the ratios.`, '');
    out.push(beforeAfter(before, full), '');
  }
  out.push('## Running', '');
  out.push(
    [
      '```bash',
      'npm run bench               # full: about 7 minutes on 2 cores',
      'npm run bench -- --quick    # under 2 minutes',
      'npm run bench -- --only=latency,throughput   # some suites; merged into the stored results of that mode',
      'npm run bench -- --offline  # no npm pack: other SDKs only from bench/.cache',
      'npm run bench -- --no-build # measure the artefacts as built',
      'npm run bench -- --report-only  # regenerate this page from the stored results',
      '```',
      '',
      'The run builds (`npm run build`), copies the artefacts to `bench/.cache/artefacts` (so a rebuild elsewhere cannot pull them away mid-run), runs each suite with a time limit, prints the table and writes `bench/results.json` (the latest run; keys read by other tooling: `size.miniprogramGzip`, `latency.p50Ratio`, `latency.p99Ratio`, `throughput.ratio`, `reconnect.msToFirstMessage`, `fanout.ms1000`), `bench/results.<mode>.json` and this page. CPU profiles of the profiling suite are left in `bench/.cache/profiles` (Chrome DevTools opens them).',
    ].join('\n'),
    '',
  );
  out.push('## Method', '');
  out.push(
    [
      '- **Artefacts.** The bench is plain ESM JavaScript over the built artefacts (`npm run build` first): `dist/index.cjs` (web adapter), `miniprogram_dist/index.js` (weapp adapter) on the Node `wx` runtime from `dist/testing.cjs`, `server/dist`. That measures the code users run and needs no TypeScript runner.',
      '- **Processes.** Each suite runs in its own Node process (`--expose-gc`); the server runs in a child process of that one (`bench/lib/server-process.mjs`): the IM server (`createImServer`, SQLite in a temp dir on the local disk, rate limit raised to 1,000,000/s) and, in the same process, the **raw relay baseline**: a second Socket.IO 4 server with the gateway\'s options (allowEIO3, CORS, 100 kB packets, websocket + polling) where a client joins the room of its user id and `relay {to}` emits to that room and acks; `group {room}` broadcasts once to a room. No token check, no validation, no storage, no sequence numbers: Socket.IO alone. Clients and server share a 2-core machine over loopback, so the client process\'s own CPU is part of every figure.',
      '- **Size.** zlib gzip level 9 of each file (summed when several). Other SDKs are fetched with `npm pack <name>` into `bench/.cache` (git-ignored, reused; delete it to refresh); the file measured is the one a WeChat mini-program loads (package `miniprogram` field if any, else the documented WeChat build; `bench/suites/size.mjs` says why for each). A failed fetch is recorded, not fatal.',
      '- **Cold start.** Each SDK\'s mini-program build (the file the size suite measures) is loaded in a fresh Node process (`bench/lib/coldstart-child.mjs`: no module cache, no compiled code, as on the first launch after an install or update) on a simulated phone (`createWxRuntime`) in a mini-program realm (`bench/lib/wx-realm.mjs`, the approach of the sandbox tests): only `wx` (plus `getApp`/`getCurrentPages` stubs, a silent console and timers) as globals, the browser globals shadowed with undefined, no string code generation except `Function(\'return this\')` (which WeChat documents as allowed). Timed: read + compile + evaluate of the file, then the client constructed with the SDK\'s documented minimal options and placeholder app ids (`bench/lib/coldstart-sdks.mjs`); heap: V8 used heap after two full GCs, before the load and 500 ms after construction (what the constructor\'s timers and promises allocate included). No network: the phone\'s domain lists are empty, so a request or socket an SDK opens fails at once with "url not in domain list" (as WeChat does for an unconfigured domain); the attempts are counted. The simulated file system gets empty-folder answers for `readdir`/`mkdir`/`stat` (ZEGO ZIM lists its folders on start). Rounds are interleaved (each SDK once per round); medians. Ours also `connect()` → `ready` against the reference server (started before the timing) in a fresh process, and for a second client in the same process. Quick: 5 rounds; full: 15.',
      '- **Latency.** One message at a time (the next after B received the previous and A\'s send was acknowledged), 100-character bodies, warm-up first, variants interleaved in blocks so drift hits all alike. Time from A\'s send call to B\'s event, both in one process (one clock).',
      '- **Throughput.** One sender keeps 100 sends in flight (a new one when an ack arrives); the receiver is a raw socket.io-client (no receipts) in every variant; elapsed time until every ack is in and B has every message. Best of the rounds (the one least disturbed by other work on the machine). Server CPU per message from `process.cpuUsage()` of the server process.',
      '- **Fan-out.** Members are raw socket.io-client 4 connections (each authenticated with its token), the sender an ImClient; time from `sendGroupMessage` until the last member\'s `imchat`. The baseline broadcasts to a room of as many raw connections (encoded once; since groups are read diffusion the IM server also sends one packet per chunk of up to 1,000 online members).',
      '- **Group of 10,000.** The owner and 9,999 members (the default IM_GROUP_MAX_MEMBERS); a share of them online as raw socket.io-client 4 connections in the suite process, the rest offline; the sender is the owner, an ImClient. Per message: rows written by the server\'s SQLite connection (`total_changes()` after − before; read diffusion stores the message once, not one inbox row per member), time from `sendGroupMessage` until the last online member\'s `imchat`, the ack, and the server\'s event-loop delay over the round (`monitorEventLoopDelay`, 1 ms resolution, in the server process). The burst sends 100 messages at once and waits for every ack and every delivery. Then one member that was offline throughout connects and catches up with `chat:group-sync`. Baseline: a raw relay room of as many connections.',
      '- **Group read receipts.** A group of 10,000 (the owner and 9,999 members), 20 messages from the owner, then every other member marks the group read up to one of them (member k up to message k mod 20, through `POST /api/conversations/read`), so 5,000 have read and each message has its own count (checked against the expected counts before timing). Timed one request at a time over raw HTTP (fetch, the owner\'s token), interleaved with the baseline, a history page of the same 20 messages in the same group: `POST /api/groups/:id/read-receipts` for the 20, and a page of 100 read / unread members of the oldest. The same in a group of 100 shows that the cost follows the readers of the asked span (one index range scan shared by the 20 messages), not a per-message scan.',
      '- **Connections.** Raw socket.io-client 4 connections from the suite process (100 handshakes in flight), one token each; a connection counts when `session` arrived (relay: `connect`). Server RSS and V8 heap are read in the server process after a full GC, before (after 20 warm-up connections closed) and after; per connection = delta / count. The baseline runs in a fresh relay-only process. Counts above the open-file limit minus 500 are skipped.',
      '- **Reconnect.** Default options (`reconnectionDelay` 3 s). The phone goes offline (`setNetwork(false)`), a message for it is stored meanwhile, then `setNetwork(true)`: time to the first caught-up `imchat`. Rounds are 2.2 s apart (the SDK forces at most one reconnect per 2 s). Baseline: weapp.socket.io with the same delay, time to reconnect (it has no network hook and no catch-up).',
      '- **Client memory.** The receiver keeps every message in an array; V8 heap after two full GCs before and after; a raw socket.io-client keeping the decoded objects is the baseline. Quick runs use fewer messages and scale to 10,000.',
      '- **Peers.** ejabberd and Prosody from Debian (installed by the suite when missing), each started in a temp dir on free loopback ports as its own system user with the configs in `bench/peers/` (`ejabberd.yml`, `prosody.cfg.lua`; `bench/peers/README.md` says how each stores before it acknowledges), driven over WebSocket (RFC 7395) by `bench/peers/xmpp.mjs`: SCRAM-SHA-1 logins, raw stanzas, stream management (XEP-0198) `<a h/>` as the ack. Ours in the same suite with raw socket.io-client connections (`chat:send` acked after commit). Two durability levels: **full**, an fsync per commit on every side (ours `IM_DURABILITY=full`; the peers\' SQLite defaults), and **nosync**, none (ours `normal`; the peers\' database on tmpfs, where fsync is a no-op, ours on the same tmpfs). Latency one message at a time; throughput a window of 100 acks; fan-out to a 1,000-member group (a persistent, archived MUC room on the peers); memory: server RSS delta per idle authenticated connection (bound resource, stream management and presence on the peers), each side and transport on a server started for it alone, base and readings after one warm-up login, a settle and the server\'s own full GC (`bench/peers/README.md`), over WebSocket and, for the peers, plain TCP c2s as a second row; reconnect: a new connection (login included) until the first message stored while it was away. Client and server CPU shares are reported next to each figure. Ratios are ours / theirs.',
      '- **Quick vs full.** Quick: 300 latency messages, 3,000 per throughput round (2 rounds), a 1,000-member group (3 rounds), a 10,000-member group with 1,000 online (3 rounds), 500 connections, 3 reconnect rounds, 3,000 messages for memory. Full: 2,000; 20,000 (3 rounds); 1,000 (5 rounds); 2,000 online (5 rounds); 1,000 / 5,000 / 10,000; 6 rounds at 0.5 s and 5 s offline; 10,000. Group read receipts: 30 rounds quick, 100 full, the same groups.',
      '- **Limits.** Loopback only, so network latency is zero and the figures are CPU and syscalls; the raw relay baseline is fast (a fraction of a millisecond), so fixed costs show up as large ratios. One machine runs clients and server, and anything else running on it at the time (see the load average in the run line) disturbs the figures; the interleaved latency blocks and best-of throughput rounds soften that, they do not remove it. Disk: SQLite WAL on the local disk, whose write and checkpoint stalls show in p99 and max.',
    ].join('\n'),
    '',
  );
  for (const [label, r] of [['full run', full], ['quick run', quick]]) {
    if (!r) continue;
    out.push(`## Details: ${label}`, '', details(r), '');
  }
  if (findings?.trim()) out.push(findings.trim(), '');
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}
