/**
 * Load in `npm test`: 200 concurrent socket.io-client 4 connections each sending 10 messages at
 * once against the in-process server. The full 1,000-client run is load.long.test.ts
 * (`npm run test:chaos`).
 */
import { formatLoad, runLoad } from './load';
import { seedFromEnv } from './prng';

it('200 concurrent clients x 10 messages: every send acked, every delivery exactly once, inboxes without gaps', async () => {
  const seed = seedFromEnv('LOAD_SEED');
  const report = await runLoad({ seed, clients: 200, messagesEach: 10, groups: 4, groupSize: 20, serverMode: 'inprocess', deadlineMs: 40000 });
  if (report.problems.length) throw new Error(`load run failed (LOAD_SEED=${seed}):\n${report.problems.slice(0, 20).join('\n')}\n${formatLoad(report)}`);
  expect(report.errors).toEqual([]);
  expect(report.deliveries.lost).toBe(0);
  expect(report.deliveries.duplicates).toBe(0);
}, 60000);
