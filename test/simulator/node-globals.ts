/**
 * Node globals that jest's jsdom environment leaves out but the `wx` runtime (testing/) uses:
 * setImmediate/clearImmediate (its callback scheduling) and structuredClone.
 */
import { clearImmediate as nodeClearImmediate, setImmediate as nodeSetImmediate } from 'node:timers';
import v8 from 'node:v8';

const g = globalThis as Record<string, unknown>;
if (typeof g.setImmediate !== 'function') {
  g.setImmediate = nodeSetImmediate;
  g.clearImmediate = nodeClearImmediate;
}
if (typeof g.structuredClone !== 'function') {
  g.structuredClone = <T>(value: T): T => v8.deserialize(v8.serialize(value)) as T;
}
