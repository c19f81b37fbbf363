// Summarises a V8 .cpuprofile (node --cpu-prof, or inspector Profiler.stop): self time per
// function and per component (a package in node_modules, a file of ours, node internals, GC).
import { readFileSync } from 'node:fs';

/** Which part of the system a call frame belongs to. */
export function componentOf(url, functionName) {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)' || functionName === '(idle)' || functionName === '(root)') return functionName;
  if (!url) return functionName && functionName.startsWith('(') ? functionName : 'native / builtins';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const m = /\/(server\/dist\/.*|dist\/[^/]*|miniprogram_dist\/.*|bench\/.*)$/.exec(url.replace(/^.*\/bench\/\.cache\/artefacts\//, '/'));
  return m ? m[1] : url.replace(/^file:\/\//, '');
}

/**
 * @returns {{ totalMs, idleMs, busyMs, components: Array<{name, ms, pct}>, functions: Array<{name, where, ms, pct}> }}
 * Percentages are of busy time (everything but idle and program).
 */
export function summarise(file, { top = 25 } = {}) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const deltas = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    // timeDeltas[i] is the time before sample i; attribute the next delta to this sample.
    const dt = (deltas[i + 1] ?? deltas[i] ?? 0) / 1000;
    self.set(id, (self.get(id) ?? 0) + dt);
  }
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const comps = new Map();
  const funcs = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id);
    const { functionName, url, lineNumber } = n.callFrame;
    total += ms;
    let comp = componentOf(url, functionName);
    if (comp === '(idle)' || comp === '(program)') {
      idle += ms;
      continue;
    }
    let key = `${functionName || '(anonymous)'}\u0000${comp}:${lineNumber + 1}`;
    if (comp === 'native / builtins') {
      // A native function (a SQLite statement's run/get/all, a socket write) counts for the
      // JavaScript that called it.
      let up = parent.get(id);
      while (up !== undefined && !byId.get(up).callFrame.url) up = parent.get(up);
      if (up !== undefined) {
        const cf = byId.get(up).callFrame;
        comp = componentOf(cf.url, cf.functionName);
        key = `${functionName || '(anonymous)'} (native) <- ${cf.functionName || '(anonymous)'}\u0000${comp}:${cf.lineNumber + 1}`;
      }
    }
    comps.set(comp, (comps.get(comp) ?? 0) + ms);
    funcs.set(key, (funcs.get(key) ?? 0) + ms);
  }
  const busy = total - idle;
  const pct = (ms) => Math.round((ms / busy) * 1000) / 10;
  const r1 = (x) => Math.round(x * 10) / 10;
  return {
    totalMs: r1(total),
    idleMs: r1(idle),
    busyMs: r1(busy),
    components: [...comps].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, ms]) => ({ name, ms: r1(ms), pct: pct(ms) })),
    functions: [...funcs]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, ms]) => {
        const [name, where] = key.split('\u0000');
        return { name, where, ms: r1(ms), pct: pct(ms) };
      }),
  };
}

/**
 * Inclusive time of frames matching `test(callFrame)`: the share of busy time spent inside them
 * (children included), counting each sample once even under recursion.
 */
export function inclusive(file, tests) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const out = Object.fromEntries(Object.keys(tests).map((k) => [k, 0]));
  let busy = 0;
  const deltas = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (deltas[i + 1] ?? deltas[i] ?? 0) / 1000;
    const leaf = byId.get(profile.samples[i]);
    const f = leaf.callFrame.functionName;
    if (f === '(idle)' || f === '(program)') continue;
    busy += dt;
    const hit = new Set();
    for (let id = leaf.id; id !== undefined; id = parent.get(id)) {
      const cf = byId.get(id).callFrame;
      for (const [k, t] of Object.entries(tests)) if (!hit.has(k) && t(cf)) hit.add(k);
    }
    for (const k of hit) out[k] += dt;
  }
  return Object.fromEntries(Object.entries(out).map(([k, ms]) => [k, { ms: Math.round(ms * 10) / 10, pct: Math.round((ms / busy) * 1000) / 10 }]));
}
