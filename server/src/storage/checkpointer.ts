import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Moves SQLite's WAL checkpoints off the event loop. With the automatic checkpoint, every 1,000th
 * page of WAL makes one unlucky commit copy the log into the database and fsync it on the main
 * thread: stalls of up to ~25 ms that every socket waits out (docs/benchmarks.md, finding 2). A
 * worker thread with its own connection runs PASSIVE checkpoints instead, which never block
 * writers, and the serving connection turns its automatic checkpoint off.
 *
 * The worker's source is inline so it runs the same from server/dist and from server/src (tests).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 200');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  /** Stops the worker after its current checkpoint, if any. */
  stop(): void;
}

export function startCheckpointer(file: string, intervalMs: number, onError: (message: string) => void): Checkpointer {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { file, intervalMs, driver: createRequire(__filename).resolve('better-sqlite3') },
  });
  // Never what keeps a process alive, and a crash of it must not take the server down: the WAL
  // then just grows until the final checkpoint at close.
  worker.unref();
  worker.on('message', (m: { error?: string }) => {
    if (m?.error) onError(m.error);
  });
  worker.on('error', (err) => onError(err.message));
  return {
    stop() {
      worker.postMessage('stop');
    },
  };
}
