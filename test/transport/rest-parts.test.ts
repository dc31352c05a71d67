import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { createRestGateway, type RestGateway } from '../../src/gateway/index.js';
import { Cache, Deduper, EventStream, LockManager, Queue, RateLimiter, Worker } from '../../src/index.js';
import { createClient } from '../../src/redis/connection.js';
import { isRestConnection, resolveRest } from '../../src/transport/rest/index.js';
import { ValidationError } from '../../src/util/errors.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { quiet } from '../helpers/worker-process.js';

/** Every part issue 15 names, used over REST through the gateway, checked in Redis over TCP. */
requireRedisServer();
const TOKEN = 'rest-parts-token-0123456789';
let redis: RedisProcess;
let gateway: RestGateway;
let raw: Redis;
let rest: { url: string; token: string };
const open: { close(): Promise<unknown> }[] = [];
function track<T extends { close(): Promise<unknown> }>(o: T): T {
  open.push(o);
  return o;
}

before(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url);
  gateway = createRestGateway(redis.url, { tokens: [TOKEN] });
  rest = { url: await gateway.listen(), token: TOKEN };
});
after(async () => {
  for (const o of open.reverse()) await o.close();
  raw.disconnect();
  await gateway.close();
  await redis.stop();
});

test('Queue over REST: add, addBulk, getJob, counts, admin; a worker runs the jobs', async () => {
  const q = track(new Queue('rest-q', { connection: rest }));
  const id = await q.add('one', { n: 1 }, { priority: 5, attempts: 2 });
  const ids = await q.addBulk([
    { name: 'two', data: { n: 2 } },
    { name: 'three', data: { n: 3 }, opts: { delay: 60_000 } },
  ]);
  assert.equal(ids.length, 2);
  assert.equal(await q.add('dup', {}, { jobId: 'fixed' }), 'fixed');
  assert.equal(await q.add('dup', {}, { jobId: 'fixed' }), 'fixed');
  const job = await q.getJob(id);
  assert.equal(job?.state, 'waiting');
  assert.deepEqual(job?.data, { n: 1 });
  assert.deepEqual(await q.getCounts(), {
    waiting: 3,
    delayed: 1,
    active: 0,
    reserved: 0,
    completed: 0,
    failed: 0,
    waitingChildren: 0,
  });
  await q.pause();
  assert.equal(await q.isPaused(), true);
  await q.resume();
  assert.equal(await q.remove('fixed'), true);
  await q.setLimits({ concurrency: 3 });
  assert.deepEqual(await q.getLimits(), { concurrency: 3 });
  assert.equal((await q.getJobs('delayed', 0, -1)).length, 1);

  const done: string[] = [];
  const w = track(
    new Worker('rest-q', async (j) => void done.push(j.name), {
      connection: rest,
      logger: quiet,
      concurrency: 2,
    }),
  );
  while (done.length < 2) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(done.sort(), ['one', 'two']);
  await w.close();
  assert.equal((await q.getJob(id))?.state, 'completed');
  await q.drain();
  assert.equal((await q.getCounts()).delayed, 0);
  // The same keys as over TCP: a TCP queue reads what REST wrote.
  const tcp = track(new Queue('rest-q', { connection: redis.url }));
  assert.equal((await tcp.getCounts()).completed, 2);
});

test('EventStream appends over REST', async () => {
  const s = track(new EventStream('rest-events', { connection: rest }));
  const one = await s.append({ type: 'click', n: 1 });
  const many = await s.appendMany([{ n: 2 }, { n: 3 }]);
  assert.match(one, /^\d+-\d+$/);
  assert.equal(many.length, 2);
  assert.equal(await s.length(), 3);
});

test('Cache over REST: set, get, getOrSet (one load), delete; memory tier off by default', async () => {
  const c = track(new Cache({ connection: rest, namespace: 'rest', logger: quiet }));
  await c.ready();
  await c.set('k', { v: 1 });
  assert.deepEqual(await c.get('k'), { v: 1 });
  let loads = 0;
  const loader = async () => {
    loads++;
    return 'loaded';
  };
  const got = await Promise.all([c.getOrSet('g', loader), c.getOrSet('g', loader)]);
  assert.deepEqual(got, ['loaded', 'loaded']);
  assert.equal(loads, 1);
  assert.equal(await c.delete('k'), true);
  assert.equal(await c.get('k'), undefined);
  // A write from another process is seen at once: no memory tier to go stale without pub/sub.
  const other = track(new Cache({ connection: redis.url, namespace: 'rest', logger: quiet, memory: false }));
  await c.set('shared', 1);
  await other.set('shared', 2);
  assert.equal(await c.get('shared'), 2);
});

test('RateLimiter over REST: the limit holds', async () => {
  const l = track(
    new RateLimiter({ connection: rest, algorithm: 'sliding-window', limit: 3, window: 60_000 }),
  );
  const r = [];
  for (let i = 0; i < 5; i++) r.push((await l.limit('user')).allowed);
  assert.deepEqual(r, [true, true, true, false, false]);
});

test('LockManager and Deduper over REST', async () => {
  const locks = track(new LockManager({ connection: rest, ttl: 5000 }));
  const h = await locks.acquire('res', { waitMs: 0 });
  await assert.rejects(locks.acquire('res', { waitMs: 0 }));
  await h.renew();
  assert.equal(await h.release(), true);
  assert.equal(await locks.withLock('res', async () => 42), 42);
  const d = track(new Deduper({ connection: rest }));
  assert.equal(await d.claim('msg-1', 60_000), true);
  assert.equal(await d.claim('msg-1', 60_000), false);
  await d.release('msg-1');
  assert.equal(await d.claim('msg-1', 60_000), true);
});

test('connection forms: {url, token}, an https URL with the token from env, the UPSTASH_* variables', () => {
  const env = { UPSTASH_REDIS_REST_URL: 'https://example.test', UPSTASH_REDIS_REST_TOKEN: 'tok' };
  assert.equal(isRestConnection(undefined, env), true);
  assert.equal(isRestConnection(undefined, { ...env, REDIS_URL: 'redis://x' }), false);
  assert.equal(isRestConnection('https://example.test'), true);
  assert.equal(isRestConnection('redis://example.test'), false);
  assert.deepEqual(resolveRest(undefined, env), {
    url: 'https://example.test',
    token: 'tok',
    timeoutMs: 10_000,
  });
  assert.throws(
    () => resolveRest({ url: 'ftp://x', token: 't' }),
    (e: unknown) => e instanceof ValidationError && e.field === 'connection.url',
  );
  assert.throws(
    () => resolveRest({ url: 'https://x', token: '' }),
    (e: unknown) => e instanceof ValidationError && e.field === 'connection.token',
  );
  assert.throws(() => resolveRest('https://x', {}), /UPSTASH_REDIS_REST_TOKEN/);
});

test('a wrong token: commands reject with a typed error that never quotes the token', async () => {
  const c = createClient({ url: rest.url, token: 'not-the-right-token-123' }, 'producer');
  try {
    await assert.rejects(
      c.get('x'),
      (e: Error) =>
        e.name === 'RestRequestError' && /401/.test(e.message) && !e.message.includes('not-the-right'),
    );
  } finally {
    c.disconnect();
  }
});
