import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Queue } from '../../src/index.js';
import { Scheduler } from '../../src/queue/schedule/scheduler.js';
import { queueScripts } from '../../src/queue/scripts.js';
import { defineScripts } from '../../src/redis/scripts.js';
import { redisCpuSeconds } from '../redis-info.js';
import { percentile } from '../stats.js';

const WARMUP_MS = 3000;

/** Figures of one window in which `schedulers` schedulers (one connection each, this process) ran. */
export interface WindowFigures {
  schedulers: number;
  seconds: number;
  /** Jobs made per second: ticks fired. */
  ticksPerSecond: number;
  /** Node CPU (this process: the schedulers) per tick fired, µs. */
  nodeUsPerTick: number;
  /** redis-server CPU per tick fired, µs. */
  redisUsPerTick: number;
  /** CPU ms per second of wall time, Node and Redis: what the loop costs when nothing is due. */
  nodeMsPerSecond: number;
  redisMsPerSecond: number;
  /** Scheduler rounds per second, and how many due schedules were read but fired by another scheduler. */
  roundsPerSecond: number;
  lostRaces: number;
  /** Job made minus its tick, ms (record time, this process's clock; same machine as Redis). */
  lateP50: number;
  lateP99: number;
}

/** Runs `schedulers` schedulers on `queue` for `ms`, measuring CPU, ticks fired and lateness. */
export async function measureWindow(
  queue: Queue,
  url: string,
  admin: Redis,
  schedulers: number,
  ms: number,
): Promise<WindowFigures> {
  let rounds = 0;
  let lost = 0;
  const clients = Array.from({ length: schedulers }, () => new Redis(url));
  for (const c of clients) defineScripts(c, queueScripts);
  await Promise.all(clients.map((c) => c.ping()));
  const runners = clients.map(
    (c) =>
      new Scheduler(
        c,
        queue.keys,
        (err) => console.error(err),
        (r) => {
          rounds++;
          lost += r.due - r.advanced;
        },
      ),
  );
  // Warm up first: the backlog of ticks that came due while the schedules were created is not the steady state.
  for (const r of runners) r.start();
  await sleep(WARMUP_MS);
  rounds = lost = 0;
  const jobsBefore = await admin.hlen(queue.keys.jobs);
  const redisBefore = await redisCpuSeconds(admin);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const since = Date.now();
  await sleep(ms);
  await Promise.all(runners.map((r) => r.stop()));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const redisCpu = (await redisCpuSeconds(admin)) - redisBefore;
  for (const c of clients) c.disconnect();
  const ticks = (await admin.hlen(queue.keys.jobs)) - jobsBefore;
  const nodeMs = (cpu.user + cpu.system) / 1000;
  const late = await lateness(admin, queue, since);
  return {
    schedulers,
    seconds,
    ticksPerSecond: ticks / seconds,
    nodeUsPerTick: ticks ? (nodeMs * 1000) / ticks : Number.NaN,
    redisUsPerTick: ticks ? (redisCpu * 1e6) / ticks : Number.NaN,
    nodeMsPerSecond: nodeMs / seconds,
    redisMsPerSecond: (redisCpu * 1000) / seconds,
    roundsPerSecond: rounds / seconds,
    lostRaces: lost,
    lateP50: percentile(late, 50),
    lateP99: percentile(late, 99),
  };
}

/** Lateness of the jobs made since `since`: the record's add time minus the tick in the job's id. */
async function lateness(admin: Redis, queue: Queue, since: number): Promise<number[]> {
  const out: number[] = [];
  let cursor = '0';
  do {
    const [next, flat] = await admin.hscan(queue.keys.jobs, cursor, 'COUNT', 5000);
    for (let i = 0; i < flat.length; i += 2) {
      const id = flat[i]!;
      const record = flat[i + 1]!;
      const a = record.indexOf('\n');
      const added = Number(record.slice(a + 1, record.indexOf('\n', a + 1)));
      if (added >= since) out.push(added - Number(id.slice(id.lastIndexOf(':') + 1)));
    }
    cursor = next;
  } while (cursor !== '0');
  return out;
}
