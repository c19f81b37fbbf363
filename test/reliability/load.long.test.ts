/**
 * The full load run (`npm run test:chaos`): 1,000 concurrent socket.io-client 4 connections, each
 * sending 10 messages at once (10,000 messages, a tenth to 10 groups of 50), against the built
 * server in its own process with a raised rate limit. Needs an open-file limit of a few thousand
 * (checked first).
 */
import { execSync } from 'node:child_process';
import { formatLoad, runLoad } from './load';
import { seedFromEnv } from './prng';
import type { ServerMode } from './server-runner';

/** The open-file limit of this process (POSIX shells), or undefined where it cannot be read. */
function fdLimit(): number | undefined {
  try {
    const out = execSync('ulimit -n', { encoding: 'utf8', shell: '/bin/sh' }).trim();
    return out === 'unlimited' ? Infinity : Number(out);
  } catch {
    return undefined;
  }
}

it('1,000 concurrent clients x 10 messages: no errors, nothing lost, nothing twice', async () => {
  const limit = fdLimit();
  // Both ends of 1,000 sockets live in this process (the server runs in its own): about 1,100 fds.
  if (limit !== undefined && limit < 2500) throw new Error(`the open-file limit is ${limit}; run \`ulimit -n 4096\` first (1,000 sockets need about 1,100 descriptors here)`);
  const seed = seedFromEnv('LOAD_SEED');
  const serverMode = (process.env.CHAOS_SERVER as ServerMode | undefined) ?? 'process';
  const report = await runLoad({ seed, clients: 1000, messagesEach: 10, groups: 10, groupSize: 50, serverMode, deadlineMs: 5 * 60_000 });
  process.stdout.write(`[load] report\n${formatLoad(report)}\n`);
  if (report.problems.length) throw new Error(`load run failed (LOAD_SEED=${seed}):\n${report.problems.slice(0, 20).join('\n')}`);
  expect(report.errors).toEqual([]);
  expect(report.deliveries.lost).toBe(0);
  expect(report.deliveries.duplicates).toBe(0);
}, 10 * 60_000);
