/**
 * Makes the console screenshots under docs/console/ (`npm run console:screenshots`): a private
 * redis-server with a few busy queues (workers running, some failures, delayed and grouped
 * jobs, a schedule), the console on a free port, and Chromium taking each main page.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { FlowProducer, Queue, Worker } from '../../src/index.js';
import { startRedis } from '../../test/helpers/redis-server.js';
import { ADMIN_TOKEN, logIn, OUT, openConsole } from './shoot.js';

const quiet = pino({ level: 'silent' });
const redis = await startRedis({ aof: true });
const url = redis.url;
const names = ['emails', 'invoices', 'webhooks', 'thumbnails'];
const queues = names.map((n) => new Queue(n, { connection: url, logger: quiet }));
const workers = names.map(
  (n, i) =>
    new Worker(
      n,
      async (job) => {
        await sleep(5 + Math.random() * 40 * (i + 1));
        if (Math.random() < [0.02, 0.1, 0.25, 0][i]!) {
          // A stack as an app's handler would have, not this script's path on the machine taking the pictures.
          const why = ['upstream answered 503', 'upstream answered 502', 'connect ETIMEDOUT 10.0.3.7:443'][
            Math.floor(Math.random() * 3)
          ]!;
          const e = new Error(`${why} for ${job.name}`);
          e.stack = `Error: ${e.message}\n    at ${job.name} (src/jobs/${n}.ts:42:11)\n    at async runAttempt (node_modules/hopper-queue/dist/queue/worker/processor.js:17:20)`;
          throw e;
        }
        return { ok: true };
      },
      { connection: url, concurrency: 8, logger: quiet },
    ),
);
const [emails, invoices, webhooks, thumbs] = queues as [Queue, Queue, Queue, Queue];
await invoices.schedule(
  'nightly-report',
  { cron: '0 2 * * *' },
  { name: 'report', data: { kind: 'nightly' } },
);
const feed = setInterval(() => {
  for (let i = 0; i < 6; i++)
    emails.add('welcome', { to: `user${Math.floor(Math.random() * 1e5)}@example.com` });
  invoices.add('charge', { invoice: `inv_${Date.now()}`, amount: 1999, currency: 'EUR' }, { attempts: 2 });
  webhooks.add(
    'deliver',
    { url: 'https://hooks.example.com/orders', event: 'order.paid' },
    { group: `tenant-${Math.floor(Math.random() * 5)}`, attempts: 3 },
  );
}, 50);
for (let i = 0; i < 40; i++)
  await thumbs.add('resize', { image: `img_${i}.png`, sizes: [64, 256, 1024] }, { delay: 3600_000 });
await sleep(20_000);
clearInterval(feed);
await workers[3]!.close(); // a queue with jobs and no live worker shows the warning
await thumbs.add('resize', { image: 'late.png', sizes: [64] });
// A flow whose children wait in the queue nobody works: its parent waits for them.
const flows = new FlowProducer({ connection: url });
const album = await flows.add({
  name: 'publish-album',
  queue: 'invoices',
  opts: { jobId: 'album-2026-12' },
  data: { album: 'winter' },
  children: ['cover', 'page-1', 'page-2'].map((p) => ({
    name: 'resize',
    queue: 'thumbnails',
    opts: { jobId: `album-2026-12/${p}` },
    data: { image: `${p}.png`, sizes: [256] },
  })),
});
await flows.close();
await webhooks.pauseGroup('tenant-vip');
await webhooks.setGroupLimits('tenant-2', { concurrency: 2 });
for (let i = 0; i < 12; i++)
  await webhooks.add('deliver', { url: 'https://vip.example.com/hook', n: i }, { group: 'tenant-vip' });

const { page, base, close } = await openConsole(
  url,
  `ops:${ADMIN_TOKEN}:admin;viewer:screenshot-viewer-token-0123:read`,
  quiet,
);
await page.screenshot({ path: `${OUT}login.png` });
await logIn(page);
await sleep(1500);
await page.screenshot({ path: `${OUT}overview.png` });
await page.goto(`${base}#/queue/webhooks/failed`);
await page.waitForSelector('table.jobs');
await page.screenshot({ path: `${OUT}queue.png` });
await page.click('table.jobs tbody tr a');
await page.waitForSelector('pre.stack');
await page.screenshot({ path: `${OUT}job.png`, fullPage: true });
await page.goto(`${base}#/queue/invoices/job/${encodeURIComponent(album.id)}`);
await page.waitForSelector('div.flow table.children');
await page.screenshot({ path: `${OUT}flow.png` });
await page.goto(`${base}#/queue/emails/charts`);
await page.waitForSelector('figure.chart');
await page.screenshot({ path: `${OUT}charts.png`, fullPage: true });
await page.goto(`${base}#/queue/webhooks/groups`);
await page.waitForSelector('table.groups', { timeout: 5000 }).catch(async () => {
  console.log(await page.locator('main').innerHTML());
});
await page.screenshot({ path: `${OUT}groups.png` });
await close();
await Promise.all(workers.map((w) => w.close()));
await Promise.all(queues.map((q) => q.close()));
await redis.stop();
console.log(`screenshots in ${OUT}`);
process.exit(0);
