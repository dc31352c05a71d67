import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { QueueFixture } from '../helpers/queue-fixture.js';
import { waitFor } from '../helpers/worker-process.js';

const fx = new QueueFixture({ closeAfterEach: true });

/**
 * A TCP proxy in front of the test's Redis that loses the first reply carrying `marker`
 * (Redis ran the command; the client never hears back), drops every connection, and
 * holds new ones for `holdMs`: what a Redis kill or a long network cut does to a call in flight.
 */
function replyLosingProxy(port: number, marker: string, holdMs: number) {
  const sockets = new Set<Socket>();
  let dropped = false;
  let holdUntil = 0;
  const server: Server = createServer(async (client) => {
    sockets.add(client);
    client.pause();
    const wait = holdUntil - Date.now();
    if (wait > 0) await sleep(wait);
    const upstream = connect(port, '127.0.0.1');
    sockets.add(upstream);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      if (!dropped && d.includes(marker)) {
        dropped = true;
        holdUntil = Date.now() + holdMs;
        for (const s of sockets) s.destroy();
        return;
      }
      client.write(d);
    });
    for (const s of [client, upstream]) {
      s.on('error', () => {});
      s.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.resume();
  });
  return {
    listen: () =>
      new Promise<number>((r) =>
        server.listen(0, '127.0.0.1', () => r((server.address() as { port: number }).port)),
      ),
    get dropped() {
      return dropped;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

let proxy: ReturnType<typeof replyLosingProxy> | undefined;
after(() => proxy?.close());

test('a fetch replayed after its lease lapsed does not start jobs another worker took back and completed', async () => {
  const q = fx.queue('fetch-replay');
  proxy = replyLosingProxy(Number(new URL(fx.url).port), 'replay-marker', 2500);
  const proxyPort = await proxy.listen();
  const startedBehind: string[] = [];
  // The worker behind the proxy: its fetch of the job runs in Redis, the reply is lost, and
  // ioredis resends the same call (same request id) once the proxy lets it reconnect, 2.5 s
  // later: past its 1 s lease, after the other worker took the job back and completed it.
  fx.worker(
    q,
    async (job) => {
      startedBehind.push(job.id);
    },
    { connection: `redis://127.0.0.1:${proxyPort}`, leaseMs: 1000, prefetch: 1 },
  );
  await sleep(300);
  const id = await q.add('j', { m: 'replay-marker' });
  await waitFor('the fetch reply lost', async () => proxy!.dropped, 5000);
  const completedByOther: string[] = [];
  const other = fx.worker(q, async () => 'ok', { leaseMs: 1000 });
  other.on('completed', (job) => completedByOther.push(job.id));
  await waitFor('the other worker completed the job', async () => completedByOther.includes(id), 10_000);
  // The proxy lets the first worker back in at 2.5 s; give its replayed fetch time to arrive.
  await sleep(3000);
  assert.deepEqual(startedBehind, [], 'the job ran again after another worker had completed it');
});
