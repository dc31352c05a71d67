/**
 * Screenshots of a partitioned queue in the console (`npm run console:screenshots:partitioned`):
 * docs/console/partitioned-queue.png and partitioned-workers.png. A private redis-server, one
 * queue `orders` over 3 partitions with two partitioned workers (run times and failures differ
 * per partition, so a view that read one partition would look different), the console on a
 * free port, Chromium.
 * Kept apart from screenshots.ts so the other pictures are not remade with it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { Queue, Worker } from '../../src/index.js';
import { partitionOfId } from '../../src/queue/partitions/layout.js';
import { startRedis } from '../../test/helpers/redis-server.js';
import { ADMIN_TOKEN, logIn, OUT, openConsole } from './shoot.js';

const quiet = pino({ level: 'silent' });
const N = 3;
const redis = await startRedis();
const url = redis.url;
const orders = new Queue('orders', { connection: url, logger: quiet, partitions: N });
const workers = [0, 1].map(
  () =>
    new Worker(
      'orders',
      async (job) => {
        const p = partitionOfId(job.id, N);
        await sleep(5 + Math.random() * 30 * (p + 1));
        if (Math.random() < [0.01, 0.05, 0.15][p]!) {
          const e = new Error(`payment provider answered 502 for ${job.name}`);
          e.stack = `Error: ${e.message}\n    at ${job.name} (src/jobs/orders.ts:31:9)`;
          throw e;
        }
        return { ok: true };
      },
      { connection: url, concurrency: 6, partitions: N, logger: quiet },
    ),
);
const feed = setInterval(() => {
  for (let i = 0; i < 8; i++) orders.add('fulfil', { order: `ord_${Math.floor(Math.random() * 1e6)}` });
  orders.add('fulfil', { order: 'grouped' }, { group: `shop-${Math.floor(Math.random() * 6)}` });
}, 50);
await sleep(15_000);
for (let i = 0; i < 30; i++) await orders.add('fulfil', { order: `later_${i}` }, { delay: 3600_000 });

const { page, base, close } = await openConsole(url, `ops:${ADMIN_TOKEN}:admin`, quiet);
await logIn(page);
// Workers while jobs still come in (they hold some), the rest once the feed stopped.
await page.goto(`${base}#/queue/orders/workers`);
await page.waitForSelector('table.workers');
await sleep(1000);
await page.screenshot({ path: `${OUT}partitioned-workers.png` });
clearInterval(feed);
await page.goto(`${base}#/queue/orders/failed`);
await page.waitForSelector('table.jobs');
await page.screenshot({ path: `${OUT}partitioned-queue.png` });
await close();
await Promise.all(workers.map((w) => w.close()));
await orders.close();
await redis.stop();
console.log(`screenshots in ${OUT}`);
process.exit(0);
