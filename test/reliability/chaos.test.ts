/**
 * The short chaos run of `npm test`: a few clients of both adapters, cut connections, one server
 * restart. The long run (20 clients, 10,000 messages, 3 restarts) is chaos.long.test.ts, run by
 * `npm run test:chaos`. Replay a failure with CHAOS_SEED=<the printed seed>.
 */
import { runChaos } from './chaos';
import { seedFromEnv } from './prng';
import { formatReport } from './report';

it('short chaos: 6 clients (5 users, one on two devices), 600 messages, cuts every 100-500 ms, 1 restart: nothing lost, nothing twice, in order', async () => {
  const seed = seedFromEnv('CHAOS_SEED');
  const report = await runChaos({
    seed,
    users: 5,
    secondDevices: 1,
    messages: 600,
    restarts: 1,
    groups: 2,
    weappEvery: 2,
    window: 5,
    targetMs: 6000,
    cutMinMs: 100,
    cutMaxMs: 500,
    blackholeChance: 0.03,
    serverMode: 'inprocess',
    stopKinds: ['graceful'],
    impatient: 1,
    appDisconnects: 1,
    networkFlaps: true,
    deadlineMs: 70000,
  });
  if (report.problems.length) {
    throw new Error(`chaos run failed (replay with CHAOS_SEED=${seed}):\n${report.problems.slice(0, 30).join('\n')}\n${formatReport(report)}`);
  }
  expect(report.deliveries.duplicates).toBe(0);
  expect(report.deliveries.lost).toBe(0);
  expect(report.sends.unsettled).toBe(0);
  expect(report.proxy.cuts).toBeGreaterThan(5);
  expect(report.restarts).toBe(1);
}, 90000);
