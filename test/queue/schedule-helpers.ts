import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { Queue } from '../../src/index.js';

/** Shared by the schedule tests: the ticks of the jobs a schedule made, read from the queue's job records. */

/** The tick a scheduled job is for: its id is `sched:<schedule id>:<tick>`. */
export function tickOf(jobId: string): number {
  return Number(jobId.slice(jobId.lastIndexOf(':') + 1));
}

/** Ticks of every job schedule `id` made that is still stored (waiting, active or finished), ascending. */
export async function ticksMade(raw: Redis, queue: Queue, id: string): Promise<number[]> {
  const prefix = `sched:${id}:`;
  const ids = (await raw.hkeys(queue.keys.jobs)).filter((j) => j.startsWith(prefix));
  return ids.map(tickOf).sort((a, b) => a - b);
}

/** Redis's clock, which ticks follow. */
export async function redisNow(raw: Redis): Promise<number> {
  const [s, us] = await raw.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

/** Asserts that `ticks` are distinct and consecutive steps of `every` ms. */
export function assertConsecutive(ticks: number[], every: number, what: string): void {
  for (let i = 1; i < ticks.length; i++)
    assert.equal(ticks[i]! - ticks[i - 1]!, every, `${what}: ticks ${i - 1} and ${i} of ${ticks.join(', ')}`);
}
