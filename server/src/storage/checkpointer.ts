import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Moves SQLite's WAL checkpoints off the event loop. With the automatic checkpoint, every 1,000th
 * page of WAL makes one unlucky commit copy the log into the database and fsync it on the main
 * thread: stalls of up to ~25 ms that every socket waits out (docs/benchmarks.md, finding 2). A
 * worker thread runs PASSIVE checkpoints instead, which never block writers, and the serving
 * connection raises its automatic threshold tenfold, to a safety net that normally never fires.
 *
 * The worker opens a connection only for each checkpoint, and `stop()` returns only once no
 * connection of the worker is open and none will be: after the storage is closed its files are
 * the caller's to move or delete. The two threads agree through two shared words:
 * STOP (set by the main thread) and BUSY (the worker holds a connection).
 *
 * The worker's source is inline so it runs the same from server/dist and from server/src (tests).
 */
const STOP = 0;
const BUSY = 1;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const flags = new Int32Array(workerData.flags);
const STOP = ${STOP}, BUSY = ${BUSY};
const timer = setInterval(() => {
  if (Atomics.load(flags, STOP)) return clearInterval(timer);
  if (Atomics.compareExchange(flags, BUSY, 0, 1) !== 0) return;
  try {
    if (Atomics.load(flags, STOP)) return clearInterval(timer);
    const db = new Database(workerData.file, { fileMustExist: true });
    try {
      db.pragma('busy_timeout = 200');
      db.pragma('wal_checkpoint(PASSIVE)');
    } finally {
      db.close();
    }
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.message) || err) });
  } finally {
    Atomics.store(flags, BUSY, 0);
    Atomics.notify(flags, BUSY);
  }
}, workerData.intervalMs);
`;

export interface Checkpointer {
  /** Returns once the worker holds no connection and will open none (waits at most ~2 s). */
  stop(): void;
}

export function startCheckpointer(file: string, intervalMs: number, onError: (message: string) => void): Checkpointer {
  const flags = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { file, intervalMs, flags: flags.buffer, driver: createRequire(__filename).resolve('better-sqlite3') },
  });
  // Never what keeps a process alive, and a failure of it must not take the server down: the WAL
  // then just grows until the checkpoint at close.
  worker.unref();
  worker.on('message', (m: { error?: string }) => {
    if (m?.error && !Atomics.load(flags, STOP)) onError(m.error);
  });
  worker.on('error', (err) => {
    if (!Atomics.load(flags, STOP)) onError(err.message);
  });
  return {
    stop() {
      Atomics.store(flags, STOP, 1);
      // A checkpoint in progress finishes first; it never takes long, so block rather than leave
      // a connection open on files the caller may delete next.
      const deadline = Date.now() + 2000;
      while (Atomics.load(flags, BUSY) === 1 && Date.now() < deadline) Atomics.wait(flags, BUSY, 1, 100);
      void worker.terminate();
    },
  };
}
