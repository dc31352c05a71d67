/**
 * A worker process: its handler logs `S` (start), sleeps a few ms, logs `D` (done);
 * the queue's events log `C` (completed), `F` (failed), `L` (lost). On SIGTERM it
 * closes the worker gracefully and exits 0.
 *
 * Env: TARGET, REDIS_URL, QUEUE, LOG, CONCURRENCY, LEASE_MS, JOB_MIN_MS, JOB_MAX_MS.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { num, required } from './env.js';
import { append } from './log.js';
import { loadTarget } from './targets/index.js';
import type { TargetName } from './targets/types.js';

const log = required('LOG');
const minMs = num('JOB_MIN_MS');
const maxMs = num('JOB_MAX_MS');
let errors = 0;

const target = await loadTarget(required('TARGET') as TargetName);
const worker = await target.worker(
  required('REDIS_URL'),
  required('QUEUE'),
  { concurrency: num('CONCURRENCY'), leaseMs: num('LEASE_MS') },
  {
    async run(id, marker) {
      append(log, 'S', id, marker);
      await sleep(minMs + Math.random() * (maxMs - minMs));
      append(log, 'D', id, marker);
    },
    completed: (id, marker) => append(log, 'C', id, marker),
    failed: (id, marker) => append(log, 'F', id, marker),
    lost: (id, marker) => append(log, 'L', id, marker),
    error(err) {
      // Expected while Redis restarts; a few lines are enough to see what happened.
      if (++errors <= 3) console.error(`worker error: ${err.message}`);
    },
  },
);
append(log, 'R', String(process.pid));

let closing = false;
process.on('SIGTERM', () => {
  if (closing) return;
  closing = true;
  worker.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
console.log('ready');
