/**
 * The full load run (`npm run test:chaos`): 1,000 concurrent socket.io-client 4 connections, each
 * sending 10 messages at once (10,000 messages, a tenth to 10 groups of 50), against the built
 * server in its own process with a raised rate limit. Needs about 2,000 file descriptors.
 */
import { formatLoad, runLoad } from './load';
import { seedFromEnv } from './prng';
import type { ServerMode } from './server-runner';

it('1,000 concurrent clients x 10 messages: no errors, nothing lost, nothing twice', async () => {
  const seed = seedFromEnv('LOAD_SEED');
  const serverMode = (process.env.CHAOS_SERVER as ServerMode | undefined) ?? 'process';
  const report = await runLoad({ seed, clients: 1000, messagesEach: 10, groups: 10, groupSize: 50, serverMode, deadlineMs: 5 * 60_000 });
  process.stdout.write(`[load] report\n${formatLoad(report)}\n`);
  if (report.problems.length) throw new Error(`load run failed (LOAD_SEED=${seed}):\n${report.problems.slice(0, 20).join('\n')}`);
  expect(report.errors).toEqual([]);
  expect(report.deliveries.lost).toBe(0);
  expect(report.deliveries.duplicates).toBe(0);
}, 10 * 60_000);
