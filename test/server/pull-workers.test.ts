import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from '../../src/index.js';
import { createServer, type HopperServer } from '../../src/server/index.js';
import type { ApiToken } from '../../src/server/tokens.js';
import { RedisFixture } from '../helpers/redis-fixture.js';
import { quiet, unique } from '../stream/helpers.js';
import { auth, testConfig } from './helpers.js';

/** HTTP pull workers on `hopper serve`: fetch, heartbeat, complete, fail; a stale lease refused. */
const redis = new RedisFixture({ closeAfterEach: true });
const WORKER: ApiToken = { name: 'puller', secret: 'puller-secret-0123456789abcdef', scopes: ['work'] };
const SUBMITTER: ApiToken = {
  name: 'producer',
  secret: 'producer-secret-0123456789abc',
  scopes: ['submit', 'read'],
};

async function setup(): Promise<{ s: HopperServer; q: Queue; name: string }> {
  const name = unique('pull');
  const s = createServer(
    testConfig(redis.url, { processor: false, queues: [name], submitLimit: 0, tokens: [WORKER, SUBMITTER] }),
    { logger: quiet },
  );
  redis.track(s);
  await s.ready();
  const q = redis.track(new Queue(name, { connection: redis.url }));
  return { s, q, name };
}

const post = (s: HopperServer, url: string, payload: object, t: ApiToken = WORKER) =>
  s.app.inject({ method: 'POST', url, headers: auth(t.secret), payload });

test('fetch up to N jobs under a lease, complete one, fail one (retried per its options, then failed)', async () => {
  const { s, q, name } = await setup();
  const a = await q.add('a', { n: 1 });
  const b = await q.add('b', { n: 2 }, { attempts: 2 });
  const r = await post(s, `/api/v1/queues/${name}/fetch`, { count: 5, leaseMs: 5000 });
  assert.equal(r.statusCode, 200);
  const got = r.json() as {
    lease: string;
    leaseMs: number;
    jobs: { id: string; name: string; data: unknown; attemptsMade: number }[];
  };
  assert.equal(got.jobs.length, 2);
  assert.deepEqual(
    got.jobs.map((j) => [j.id, j.name, j.data, j.attemptsMade]),
    [
      [a, 'a', { n: 1 }, 0],
      [b, 'b', { n: 2 }, 0],
    ],
  );
  assert.equal((await q.getCounts()).active, 2);
  const done = await post(s, `/api/v1/queues/${name}/jobs/${a}/complete`, {
    lease: got.lease,
    result: { ok: 1 },
  });
  assert.equal(done.statusCode, 200, done.body);
  const job = await q.getJob(a);
  assert.equal(job?.state, 'completed');
  assert.deepEqual(job?.returnValue, { ok: 1 });
  const failed = await post(s, `/api/v1/queues/${name}/jobs/${b}/fail`, {
    lease: got.lease,
    error: { message: 'nope' },
  });
  assert.deepEqual(failed.json(), { retrying: true });
  // The second attempt, fetched again, fails for good.
  const again = (await post(s, `/api/v1/queues/${name}/fetch`, {})).json() as typeof got;
  assert.deepEqual(
    again.jobs.map((j) => [j.id, j.attemptsMade]),
    [[b, 1]],
  );
  const last = await post(s, `/api/v1/queues/${name}/jobs/${b}/fail`, {
    lease: again.lease,
    error: { message: 'still no', name: 'Boom' },
  });
  assert.deepEqual(last.json(), { retrying: false });
  const dead = await q.getJob(b);
  assert.equal(dead?.state, 'failed');
  assert.equal(dead?.error?.message, 'still no');
  // Nothing left: an empty fetch, no lease.
  assert.deepEqual((await post(s, `/api/v1/queues/${name}/fetch`, {})).json(), {
    lease: '',
    leaseMs: 30000,
    jobs: [],
  });
});

test('heartbeat keeps a lease past its length; a stale lease is refused (409) and its job runs elsewhere', async () => {
  const { s, q, name } = await setup();
  const id = await q.add('slow', {});
  const first = (await post(s, `/api/v1/queues/${name}/fetch`, { leaseMs: 1000 })).json() as {
    lease: string;
  };
  for (let i = 0; i < 3; i++) {
    await sleep(500);
    const hb = await post(s, `/api/v1/queues/${name}/leases/${first.lease}/heartbeat`, {
      jobs: [id],
      leaseMs: 1000,
    });
    assert.equal(hb.statusCode, 200, hb.body);
  }
  // 1.5 s held on a 1 s lease: still this worker's.
  assert.equal((await q.getJob(id))?.state, 'active');
  // Silence past the lease: another worker's heartbeat takes the job back, a new fetch gets it.
  await sleep(1300);
  let second: { lease: string; jobs: { id: string }[] } = { lease: '', jobs: [] };
  for (let i = 0; i < 40 && second.jobs.length === 0; i++) {
    await post(s, `/api/v1/queues/${name}/leases/${'0'.repeat(16)}.x/heartbeat`, { jobs: [] });
    second = (await post(s, `/api/v1/queues/${name}/fetch`, { leaseMs: 5000 })).json() as typeof second;
    if (second.jobs.length === 0) await sleep(100);
  }
  assert.deepEqual(
    second.jobs.map((j) => j.id),
    [id],
  );
  const late = await post(s, `/api/v1/queues/${name}/jobs/${id}/complete`, {
    lease: first.lease,
    result: 'late',
  });
  assert.equal(late.statusCode, 409);
  assert.match((late.json() as { error: string }).error, /lease/);
  const stale = await post(s, `/api/v1/queues/${name}/leases/${first.lease}/heartbeat`, { jobs: [id] });
  assert.equal(stale.statusCode, 409);
  const ok = await post(s, `/api/v1/queues/${name}/jobs/${id}/complete`, {
    lease: second.lease,
    result: 'on time',
  });
  assert.equal(ok.statusCode, 200);
  assert.equal((await q.getJob(id))?.returnValue, 'on time');
});

test('scopes and bad input: work scope required, typed 400s naming the field, unknown queue 404', async () => {
  const { s, name } = await setup();
  assert.equal((await post(s, `/api/v1/queues/${name}/fetch`, {}, SUBMITTER)).statusCode, 403);
  const noAuth = await s.app.inject({ method: 'POST', url: `/api/v1/queues/${name}/fetch`, payload: {} });
  assert.equal(noAuth.statusCode, 401);
  const bad = await post(s, `/api/v1/queues/${name}/fetch`, { count: 1000 });
  assert.equal(bad.statusCode, 400);
  assert.equal((bad.json() as { field: string }).field, 'count');
  const badLease = await post(s, `/api/v1/queues/${name}/jobs/1/complete`, { lease: 'forged' });
  assert.equal((badLease.json() as { field: string }).field, 'lease');
  assert.equal((await post(s, '/api/v1/queues/not-configured/fetch', {})).statusCode, 404);
});

test('the OpenAPI document lists the pull routes', async () => {
  const { s } = await setup();
  const doc = (
    await s.app.inject({ method: 'GET', url: '/api/v1/openapi.json', headers: auth(SUBMITTER.secret) })
  ).json() as {
    paths: Record<string, unknown>;
  };
  for (const p of [
    '/api/v1/queues/{queue}/fetch',
    '/api/v1/queues/{queue}/leases/{lease}/heartbeat',
    '/api/v1/queues/{queue}/jobs/{id}/complete',
    '/api/v1/queues/{queue}/jobs/{id}/fail',
  ])
    assert.ok(doc.paths[p], p);
});
