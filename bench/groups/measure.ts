/**
 * One measurement of `npm run bench:groups` in its own process: N jobs added first, then
 * one worker (concurrency 100) runs them; prints `{ ok, figures }` as its last line.
 *   --case plain   ungrouped jobs, no limits
 *   --case groups  the same jobs spread over 1,000 groups, group concurrency 1
 */
import { Redis } from 'ioredis';
import { type JobOptions, Queue, Worker } from '../../src/index.js';
import { redisCpuSeconds } from '../redis-info.js';
import { GROUPS, type GroupFigures, JOBS } from './figures.js';

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = process.argv[i + 1];
  if (i < 0 || !v) throw new Error(`--${name} is required`);
  return v;
}

async function main(): Promise<void> {
  const kind = arg('case');
  const url = arg('url');
  const queue = new Queue('bench-groups', { connection: url });
  const admin = new Redis(url);
  if (kind === 'groups') await queue.setLimits({ group: { concurrency: 1 } });
  const opts = (i: number): JobOptions =>
    kind === 'groups' ? { group: `g${i % GROUPS}`, removeOnComplete: true } : { removeOnComplete: true };
  for (let i = 0; i < JOBS; i += 1000) {
    await queue.addBulk(
      Array.from({ length: 1000 }, (_, j) => ({ name: 'b', data: { i: i + j }, opts: opts(i + j) })),
    );
  }
  const cpu0 = process.cpuUsage();
  const redis0 = await redisCpuSeconds(admin);
  const t0 = performance.now();
  let done = 0;
  await new Promise<void>((resolve) => {
    const worker = new Worker('bench-groups', async () => {}, { connection: url, concurrency: 100 });
    worker.on('completed', () => {
      if (++done === JOBS) worker.close().then(resolve);
    });
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const redisSeconds = (await redisCpuSeconds(admin)) - redis0;
  const figures: GroupFigures = {
    rate: JOBS / seconds,
    nodeUsPerJob: (cpu.user + cpu.system) / JOBS,
    redisUsPerJob: (redisSeconds * 1e6) / JOBS,
  };
  await queue.close();
  admin.disconnect();
  console.log(JSON.stringify({ ok: true, figures }));
}

main().catch((err: unknown) => {
  console.log(JSON.stringify({ ok: false, error: (err as Error).message }));
  process.exit(1);
});
