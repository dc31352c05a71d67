/**
 * A producer process: adds jobs at a steady pace, each with a unique marker
 * (`<PRODUCER_ID>-<seq>`), logging `A` before each add and `K` (with the job id)
 * after it resolved. A SIGKILL between the two leaves an unacknowledged add, which
 * may or may not exist. On SIGTERM it stops adding, waits for adds in flight, exits 0.
 *
 * Env: TARGET, REDIS_URL, QUEUE, LOG, PRODUCER_ID, RATE (adds/s), INFLIGHT.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { num, required } from './env.js';
import { append } from './log.js';
import { loadTarget } from './targets/index.js';
import type { TargetName } from './targets/types.js';

const log = required('LOG');
const id = required('PRODUCER_ID');
const inflight = num('INFLIGHT');
// Each of the `inflight` loops adds once per `gap`, which makes RATE adds/s in all.
const gap = (1000 * inflight) / num('RATE');

const target = await loadTarget(required('TARGET') as TargetName);
const producer = await target.producer(required('REDIS_URL'), required('QUEUE'));
let seq = 0;
let stopping = false;

async function loop(): Promise<void> {
  while (!stopping) {
    const marker = `${id}-${++seq}`;
    const started = Date.now();
    append(log, 'A', marker);
    try {
      append(log, 'K', marker, await producer.add(marker));
    } catch {
      // Redis is away: this add is unacknowledged (it may exist or not); the next one is a new marker.
      append(log, 'E', marker);
    }
    await sleep(Math.max(0, gap - (Date.now() - started)));
  }
}

const loops = Array.from({ length: inflight }, () => loop());
process.on('SIGTERM', async () => {
  stopping = true;
  await Promise.all(loops);
  await producer.close().catch(() => {});
  process.exit(0);
});
console.log('ready');
