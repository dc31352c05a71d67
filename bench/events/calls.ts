/**
 * `node --import tsx bench/events/calls.ts`: Redis commands per job at concurrency 1 without
 * prefetch, events on and off (INFO commandstats: calls and usec, commands run inside scripts
 * included), so the cost events add per job is counted rather than timed on a loaded machine.
 * Env: BENCH_JOBS (2,000).
 */
import { Queue, Worker } from '../../src/index.js';
import { startRedis } from '../redis.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 2000);
const server = await startRedis({ aof: false });
try {
  for (const events of [false, true, false, true]) {
    await server.flushAll();
    const name = `calls-${events}`;
    const queue = new Queue(name, { connection: server.url, metrics: false });
    if (!events) await queue.setEvents({ maxLen: 0 });
    for (let i = 0; i < JOBS; i += 1000)
      await queue.addBulk(
        Array.from({ length: Math.min(1000, JOBS - i) }, (_, j) => ({ name: 'j', data: i + j })),
      );
    await server.admin.config('RESETSTAT');
    let done = 0;
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    const worker = new Worker(name, () => null, {
      connection: server.url,
      concurrency: 1,
      prefetch: 0,
      metrics: false,
      schedules: false,
    });
    await new Promise<void>((r) => worker.on('completed', () => ++done === JOBS && r()));
    const ms = performance.now() - t0;
    const used = process.cpuUsage(cpu);
    const stats = await server.admin.info('commandstats');
    await worker.close();
    await queue.close();
    const rows = [...stats.matchAll(/cmdstat_([\w|]+):calls=(\d+),usec=(\d+)/g)]
      .map((m) => [m[1]!, Number(m[2]) / JOBS, Number(m[3]) / JOBS] as const)
      .filter(([, calls]) => calls >= 0.01)
      .sort((a, b) => b[2] - a[2]);
    console.log(
      `events ${events ? 'on ' : 'off'}: ${Math.round((JOBS / ms) * 1000)} jobs/s, Node ${((used.user + used.system) / JOBS).toFixed(1)} µs/job; per job: ${rows.map(([c, n, us]) => `${c} ${n.toFixed(2)}x ${us.toFixed(1)}µs`).join(', ')}`,
    );
  }
} finally {
  await server.stop();
}
