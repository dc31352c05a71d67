import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { queueKeys, workerRepliesKey } from '../../src/queue/keys.js';
import { scriptKeys } from '../../src/queue/script-keys.js';
import { queueScripts } from '../../src/queue/scripts.js';
import { callScript, defineScripts } from '../../src/redis/scripts.js';
import { QueueFixture } from '../helpers/queue-fixture.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/worker-process.js';

const fx = new QueueFixture({ closeAfterEach: true });

const proxies: TcpProxy[] = [];
after(() => {
  for (const p of proxies) p.close();
});

async function proxyToRedis(): Promise<{ proxy: TcpProxy; url: string }> {
  const proxy = new TcpProxy(Number(new URL(fx.url).port));
  proxies.push(proxy);
  return { proxy, url: `redis://127.0.0.1:${await proxy.listen()}` };
}

test('a fetch replayed after its lease lapsed does not start jobs another worker took back and completed', async () => {
  const q = fx.queue('fetch-replay');
  const { proxy, url } = await proxyToRedis();
  proxy.loseReplyWith('replay-marker', 2500);
  const startedBehind: string[] = [];
  // The worker behind the proxy: its fetch of the job runs in Redis, the reply is lost, and
  // ioredis resends the same call (same request id) once the proxy lets it reconnect, 2.5 s
  // later: past its 1 s lease, after the other worker took the job back and completed it.
  fx.worker(
    q,
    async (job) => {
      startedBehind.push(job.id);
    },
    { connection: url, leaseMs: 1000, prefetch: 1 },
  );
  await sleep(300);
  const id = await q.add('j', { m: 'replay-marker' });
  await waitFor('the fetch reply lost', async () => proxy.lostReply, 5000);
  const completedByOther: string[] = [];
  const other = fx.worker(q, async () => 'ok', { leaseMs: 1000 });
  other.on('completed', (job) => completedByOther.push(job.id));
  await waitFor('the other worker completed the job', async () => completedByOther.includes(id), 10_000);
  // The proxy lets the first worker back in at 2.5 s; give its replayed fetch time to arrive.
  await sleep(3000);
  assert.deepEqual(startedBehind, [], 'the job ran again after another worker had completed it');
});

test('a lapsed lease is seen by whichever reply the worker reads first, not only by the call that found it', async () => {
  const q = fx.queue('lapse-seen');
  const { proxy, url } = await proxyToRedis();
  const ids = await q.addBulk(Array.from({ length: 6 }, (_, i) => ({ name: 'j', data: { i } })));
  const startedBehind: string[] = [];
  let finishFirst!: () => void;
  const firstMayEnd = new Promise<void>((r) => {
    finishFirst = r;
  });
  // The worker behind the proxy runs the first job and holds the other five reserved.
  const behind = fx.worker(
    q,
    async (job) => {
      startedBehind.push(job.id);
      if (startedBehind.length === 1) await firstMayEnd;
    },
    { connection: url, leaseMs: 1000, concurrency: 1, prefetch: 5 },
  );
  await waitFor(
    'the first job running, five reserved',
    async () => startedBehind.length === 1 && (await q.getCounts()).reserved === 5,
    5000,
  );
  // Cut off past its lease: the other worker takes all six back and completes them.
  proxy.cut();
  const completedByOther = new Set<string>();
  const other = fx.worker(q, async () => 'ok', { leaseMs: 1000 });
  other.on('completed', (job) => completedByOther.add(job.id));
  await waitFor('the other worker completed all six', async () => completedByOther.size === 6, 15_000);
  // A call of the cut-off worker that ran in Redis but whose reply it never read (its
  // connection dropped): the only one that finds the lease lapsed. Its later calls all
  // find a fresh lease.
  const client = fx.raw;
  defineScripts(client, queueScripts);
  const keys = queueKeys('hopper', q.name);
  await callScript(client, 'heartbeat', scriptKeys(keys, workerRepliesKey(keys, behind.id)), [
    behind.id,
    1000,
    1,
    0,
    0,
    '0',
    5,
    '',
    6,
    '',
  ]);
  proxy.restore();
  finishFirst();
  await sleep(1500);
  assert.deepEqual(startedBehind, [ids[0]], 'a job the other worker completed was started again');
});
