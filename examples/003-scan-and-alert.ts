// Seed 003: a scan every 15 s (one job per tick however many instances run), matches
// deduplicated across instances (Redis first, the job id second, like the seed's DB
// constraint), alerts sent at most 5 at once with 3 attempts and exponential backoff.
// Run in three terminals: REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/003-scan-and-alert.ts
import { Deduper, Queue, Worker } from 'hopper-queue';

const every = Number(process.env.SCAN_EVERY_MS ?? 15_000);
const runFor = Number(process.env.RUN_MS ?? Number.POSITIVE_INFINITY);
const instance = process.env.INSTANCE ?? String(process.pid);

const scans = new Queue('scan-tick');
const alerts = new Queue<{ strategyId: string; matchId: string }>('send-alert');
const dedupe = new Deduper();
await scans.schedule('scan', { every }, { name: 'scan' }); // safe from every instance

const scanner = new Worker('scan-tick', async () => {
  const matches = ['match-1', 'match-2', 'match-3']; // what the strategy rules found this tick
  for (const matchId of matches) {
    if (!(await dedupe.claim(`abc123:${matchId}`, 7_200_000))) continue; // layer 1: seen recently
    const opts = {
      jobId: `alert:abc123:${matchId}`,
      attempts: 3,
      backoff: { type: 'exponential' as const, delay: 2_000 },
    };
    await alerts.add('alert', { strategyId: 'abc123', matchId }, opts); // layer 2: one job per id
  }
});

const sent: string[] = [];
let failures = 0;
const sender = new Worker<{ strategyId: string; matchId: string }>(
  'send-alert',
  async (job) => {
    if (job.attemptsMade === 0) throw new Error('chat API answered 502'); // first try fails: retried
    sent.push(job.data.matchId);
  },
  { concurrency: 5 },
);
sender.on('failed', () => failures++);

await new Promise((r) => setTimeout(r, runFor));
await scanner.close();
// Alerts this instance may still owe (retries waiting on their backoff) go out before it stops.
for (let c = await alerts.getCounts(); c.waiting + c.delayed + c.active > 0; c = await alerts.getCounts())
  await new Promise((r) => setTimeout(r, 200));
await sender.close();
await Promise.all([scans.close(), alerts.close(), dedupe.close()]);
console.log(JSON.stringify({ example: '003', instance, sent, failures }));
