import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Redis } from 'ioredis';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { Queue, UnrecoverableError, Worker } from '../../src/index.js';
import type { QueueMetrics } from '../../src/metrics/index.js';
import { queueKeys } from '../../src/queue/keys.js';
import { createServer, type HopperServer, type ServerConfig } from '../../src/server/index.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { unique, waitFor } from '../stream/helpers.js';
import { auth, capturingLogger, OTHER_TOKEN, TOKEN, testConfig } from './helpers.js';

requireRedisServer();
let redis: RedisProcess;
let raw: Redis;
const open: { close(): Promise<void> }[] = [];
const METRICS_TOKEN = 'scraper-token-0123456789abcdef';

before(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url);
});
after(async () => {
  for (const o of open.reverse()) await o.close();
  raw.disconnect();
  await redis.stop();
});

async function server(
  overrides: Partial<ServerConfig> = {},
): Promise<{ s: HopperServer; base: string; queue: string }> {
  const queue = unique('rebalance');
  const s = createServer(
    // The limit is per token across servers on one Redis: only the 429 test sets a low one (with its own window, so its own key).
    testConfig(redis.url, {
      processor: false,
      queues: [queue],
      metricsTokens: [METRICS_TOKEN],
      submitLimit: 10_000,
      ...overrides,
    }),
    { logger: capturingLogger().logger },
  );
  open.push(s);
  await s.ready();
  const address = await s.listen();
  return { s, base: address, queue };
}

const json = { 'content-type': 'application/json' };
type Status = {
  state: string;
  name: string;
  progress: unknown;
  attempts: { made: number; max: number; stalls: number };
  result?: unknown;
  error?: { name: string; message: string };
  timestamps: { added: number; processed: number; finished: number };
};
type MetricsBody = { days: number; queues: Record<string, QueueMetrics> };
function post(base: string, queue: string, body: unknown, token = TOKEN) {
  return fetch(`${base}/api/v1/queues/${encodeURIComponent(queue)}/jobs`, {
    method: 'POST',
    headers: { ...auth(token), ...json },
    body: JSON.stringify(body),
  });
}
const get = (base: string, path: string, token = TOKEN) => fetch(`${base}${path}`, { headers: auth(token) });

test('the whole flow: submit -> 202 -> status -> worker -> completed / failed -> metrics', async () => {
  const { base, queue } = await server({ jobTtl: 60_000 });
  const w = new Worker<{ wallet: string }>(
    queue,
    async (job) => {
      await sleep(3);
      if (job.data.wallet === 'bad') throw new UnrecoverableError('wallet rejected');
      await job.updateProgress({ step: 'done', pct: 100 });
      return { rebalanced: job.data.wallet };
    },
    { connection: redis.url, autorun: false, metrics: { flushMs: 50 } },
  );
  open.push(w);

  const r = await post(base, queue, { name: 'rebalance', data: { wallet: 'w1' }, opts: { attempts: 2 } });
  assert.equal(r.status, 202);
  const { jobId, statusUrl } = (await r.json()) as { jobId: string; statusUrl: string };
  assert.equal(statusUrl, `/api/v1/queues/${queue}/jobs/${jobId}`);
  assert.equal(r.headers.get('location'), statusUrl);
  assert.match(r.headers.get('ratelimit') ?? '', /^"submit";r=\d+;t=\d+$/);

  const waiting = (await (await get(base, statusUrl)).json()) as Record<string, unknown>;
  assert.equal(waiting.state, 'waiting');
  assert.equal(waiting.name, 'rebalance');
  assert.equal(waiting.progress, null);
  assert.deepEqual(waiting.attempts, { made: 0, max: 2, stalls: 0 });

  const bad = (await (await post(base, queue, { name: 'rebalance', data: { wallet: 'bad' } })).json()) as {
    statusUrl: string;
  };
  w.run();
  const done = (await waitFor('completed', async () => {
    const s = (await (await get(base, statusUrl)).json()) as Status;
    return s.state === 'completed' ? s : undefined;
  }))!;
  assert.deepEqual(done.result, { rebalanced: 'w1' });
  assert.deepEqual(done.progress, { step: 'done', pct: 100 });
  assert.ok(
    done.timestamps.added <= done.timestamps.processed &&
      done.timestamps.processed <= done.timestamps.finished,
  );
  const failed = (await waitFor('failed', async () => {
    const s = (await (await get(base, bad.statusUrl)).json()) as Status;
    return s.state === 'failed' ? s : undefined;
  }))!;
  assert.deepEqual(failed.error, { name: 'UnrecoverableError', message: 'wallet rejected' });
  assert.equal(failed.result, undefined);

  // Kept for the configured TTL after finishing: the retention expiry is finishedOn + jobTtl.
  const expiry = Number(await raw.zscore(queueKeys('hopper', queue).completed, jobId));
  assert.ok(Math.abs(expiry - (done.timestamps.finished + 60_000)) < 1000, `expiry ${expiry}`);

  const missing = await get(base, `/api/v1/queues/${queue}/jobs/nope-1`);
  assert.equal(missing.status, 404);

  const m = (await waitFor('metrics', async () => {
    const body = (await (await get(base, '/api/v1/metrics?days=7')).json()) as MetricsBody;
    const q = body.queues[queue];
    return q && q.completedJobs === 1 && q.failedJobs === 1 && q.rateLimit.hits === 2 ? body : undefined;
  }))!;
  const q = m.queues[queue]!;
  assert.equal(q.totalJobs, 2);
  assert.ok(q.avgExecutionTime >= 2, `avg ${q.avgExecutionTime}`);
  assert.ok(q.p95ExecutionTime >= q.p50ExecutionTime);
  assert.equal(q.wait.count, 2);
  assert.equal(q.rateLimit.blocked, 0);
  assert.equal(q.recentFailures[0]?.error.message, 'wallet rejected');
  const one = (await (await get(base, `/api/v1/metrics?days=1&queue=${queue}`)).json()) as { queues: object };
  assert.deepEqual(Object.keys(one.queues), [queue]);
});

test('401 for a missing or wrong token, the same answer whatever was wrong; health is public', async () => {
  const { base, queue } = await server();
  const path = `/api/v1/queues/${queue}/jobs`;
  const bodies = new Set<string>();
  for (const headers of [
    {},
    { authorization: `Bearer ${TOKEN}x` },
    { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
    { authorization: `Basic ${TOKEN}` },
    { authorization: 'Bearer ' },
  ]) {
    const r = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { ...(headers as Record<string, string>), ...json },
      body: '{"name":"x"}',
    });
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer');
    bodies.add(await r.text());
  }
  assert.deepEqual([...bodies], ['{"error":"unauthorized"}']);
  for (const p of ['/api/v1/metrics', '/metrics', '/api/v1/openapi.json', `${path}/1`])
    assert.equal((await fetch(`${base}${p}`)).status, 401, p);
  assert.notEqual((await fetch(`${base}/health`)).status, 401);
  assert.equal((await get(base, '/metrics', METRICS_TOKEN)).status, 200);
  // The scraper's token is valid but for /metrics only: 403, the route needs another scope.
  assert.equal((await get(base, '/api/v1/metrics', METRICS_TOKEN)).status, 403);
  assert.equal((await post(base, queue, { name: 'x' }, METRICS_TOKEN)).status, 403);
  assert.equal(await raw.llen(queueKeys('hopper', queue).wait), 0, 'nothing was added');
});

test('429 past the per-token limit, with RateLimit headers and Retry-After; counted in the metrics', async () => {
  const { base, queue } = await server({ submitLimit: 3, submitWindow: 61_000 });
  for (let i = 0; i < 3; i++) assert.equal((await post(base, queue, { name: 'j' })).status, 202);
  const r = await post(base, queue, { name: 'j' });
  assert.equal(r.status, 429);
  assert.ok(Number(r.headers.get('retry-after')) >= 1);
  assert.match(r.headers.get('ratelimit') ?? '', /^"submit";r=0;t=\d+$/);
  assert.equal(r.headers.get('ratelimit-policy'), '"submit";q=3;w=61');
  assert.equal((await post(base, queue, { name: 'j' }, OTHER_TOKEN)).status, 202, 'limits are per token');
  const q = (await waitFor('rate-limit metrics', async () => {
    const body = (await (await get(base, '/api/v1/metrics')).json()) as MetricsBody;
    const m = body.queues[queue];
    return m?.rateLimit.hits === 5 ? m : undefined;
  }))!;
  assert.deepEqual(q.rateLimit, { hits: 5, blocked: 1 });
  assert.equal(q.totalJobs, 4);
});

test('bad input: unknown queue 404, invalid options 400 naming the field, oversize data 413, bad days 400', async () => {
  const { base, queue } = await server({ jobMaxData: 2048, bodyLimit: 64 * 1024 });
  const expect = async (r: Response, status: number, field?: string) => {
    const body = (await r.json()) as { field?: string; error: string };
    assert.equal(r.status, status, JSON.stringify(body));
    if (field) assert.equal(body.field, field, body.error);
  };
  await expect(await post(base, 'not-configured', { name: 'j' }), 404);
  await expect(await get(base, '/api/v1/queues/not-configured/jobs/1'), 404);
  await expect(await post(base, queue, { name: 'j', opts: { delay: -1 } }), 400, 'opts.delay');
  await expect(await post(base, queue, { name: 'j', opts: { nope: 1 } }), 400, 'opts.nope');
  await expect(await post(base, queue, { data: {} }), 400, 'name');
  await expect(await post(base, queue, [1, 2]), 400, 'body');
  await expect(await post(base, queue, { name: 'j', data: 'x'.repeat(3000) }), 413, 'data');
  await expect(await post(base, queue, { name: 'j', data: 'x'.repeat(70_000) }), 413);
  for (const days of ['0', '8', 'abc', '1.5'])
    await expect(await get(base, `/api/v1/metrics?days=${days}`), 400, 'days');
  await expect(await get(base, '/api/v1/metrics?queue=nope'), 404);
  assert.equal(await raw.llen(queueKeys('hopper', queue).wait), 0, 'nothing was written');

  const auto = await server({ queues: [], autoCreateQueues: true });
  await expect(await post(auto.base, unique('any'), { name: 'j' }), 202);
  await expect(await post(auto.base, 'bad{name}', { name: 'j' }), 400, 'queue');
});

test('GET /metrics: Prometheus text that a real parser reads; counters, histograms in seconds, gauges, bounded labels', async () => {
  const { base, queue } = await server();
  const w = new Worker(queue, () => sleep(2), { connection: redis.url, metrics: { flushMs: 50 } });
  open.push(w);
  for (let i = 0; i < 5; i++) assert.equal((await post(base, queue, { name: 'j', data: i })).status, 202);
  let text = '';
  const families = (await waitFor('prometheus counts', async () => {
    const r = await get(base, '/metrics');
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    text = await r.text();
    const parsed = parsePrometheusTextFormat(text);
    const byName = new Map(parsed.map((f) => [f.name, f]));
    const value = (name: string) => byName.get(name)?.metrics.find((m) => m.labels?.queue === queue)?.value;
    // The server's queue flushes its added count once a second, the worker every 50 ms.
    return value('hopper_jobs_completed_total') === '5' && value('hopper_jobs_added_total') === '5'
      ? byName
      : undefined;
  }))!;
  const sample = (name: string, labels: Record<string, string>) =>
    families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  assert.equal(families.get('hopper_jobs_added_total')?.type, 'COUNTER');
  assert.equal(sample('hopper_jobs_added_total', { queue })?.value, '5');
  for (const f of families.values()) if (f.type === 'COUNTER') assert.match(f.name, /_total$/);
  // Read from Redis, the same on every replica: marked so dashboards take max(), not sum(), over instances.
  for (const f of families.values())
    if (f.name.startsWith('hopper_') && f.type !== 'HISTOGRAM')
      for (const m of f.metrics)
        assert.equal(m.labels?.source, 'cluster', `${f.name} without source="cluster"`);

  // The parser folds labelled histograms into one series, so read ours from its lines with the queue label taken out.
  const ours = text
    .split('\n')
    .filter((l) => l.startsWith('#') || l.includes(`queue="${queue}"`))
    .map((l) =>
      l.replace(',source="cluster"', '').replace(`{queue="${queue}"}`, '').replace(`queue="${queue}",`, ''),
    )
    .join('\n');
  const exec = parsePrometheusTextFormat(ours).find((f) => f.name === 'hopper_job_execution_seconds');
  assert.equal(exec?.type, 'HISTOGRAM');
  const h = exec!.metrics[0]!;
  assert.equal(h.count, '5');
  assert.ok(Number(h.sum) > 0.005 && Number(h.sum) < 5, `sum ${h.sum} s`);
  const bounds = Object.keys(h.buckets!);
  assert.equal(bounds.at(-1), '+Inf');
  let last = 0;
  let lastLe = 0;
  for (const le of bounds) {
    const c = Number(h.buckets![le]);
    assert.ok(c >= last, 'cumulative');
    if (le !== '+Inf') assert.ok(Number(le) > lastLe, 'increasing bounds');
    last = c;
    lastLe = Number(le);
  }
  assert.ok(Number(h.buckets!['0.004096']) <= 5 && Number(h.buckets!['1.048576']) === 5, 'bounds in seconds');
  assert.equal(families.get('hopper_job_wait_seconds')?.type, 'HISTOGRAM');

  assert.equal(sample('hopper_jobs', { queue, state: 'completed' })?.value, '5');
  assert.equal(sample('hopper_jobs', { queue, state: 'waiting' })?.value, '0');
  assert.ok(families.has('hopper_stream_length'));
  assert.ok(families.has('process_cpu_user_seconds_total'), 'process metrics');
  assert.ok(families.has('nodejs_eventloop_lag_seconds'));
  const allowed = new Set(['queue', 'state', 'stream', 'group', 'le', 'source']);
  for (const f of families.values())
    if (f.name.startsWith('hopper_'))
      for (const m of f.metrics)
        for (const label of Object.keys(m.labels ?? {})) assert.ok(allowed.has(label), `${f.name} ${label}`);
});

test('the OpenAPI document is valid OpenAPI 3.1 and lists exactly the registered routes', async () => {
  const { s, base } = await server();
  const doc = (await (await get(base, '/api/v1/openapi.json')).json()) as {
    openapi: string;
    paths: Record<string, Record<string, unknown>>;
  };
  const result = await new Validator().validate(doc as never);
  assert.equal(result.valid, true, JSON.stringify(result.errors));
  assert.equal(doc.openapi, '3.1.0');
  const documented = new Set(
    Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)),
  );
  const registered = new Set(
    s.routes.filter((r) => !r.startsWith('HEAD ')).map((r) => r.replace(/:(\w+)/g, '{$1}')),
  );
  assert.ok(registered.size >= 7);
  assert.deepEqual([...registered].sort(), [...documented].sort());
});

test('a traceparent header travels with the job as opts.trace; a malformed one is a 400 naming the field', async () => {
  const { base, queue } = await server();
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const submit = (headers: Record<string, string>, opts?: unknown) =>
    fetch(`${base}/api/v1/queues/${encodeURIComponent(queue)}/jobs`, {
      method: 'POST',
      headers: { ...auth(TOKEN), ...json, ...headers },
      body: JSON.stringify({ name: 'traced', data: 1, ...(opts ? { opts } : {}) }),
    });
  const ok = await submit({ traceparent, tracestate: 'vendor=1' }, { attempts: 2 });
  assert.equal(ok.status, 202);
  const { jobId } = (await ok.json()) as { jobId: string };
  const q = new Queue(queue, { connection: redis.url, metrics: false });
  open.push(q);
  const job = (await q.getJob(jobId))!;
  assert.deepEqual(job.opts.trace, { traceparent, tracestate: 'vendor=1' });
  assert.equal(job.opts.attempts, 2);
  const bad = await submit({ traceparent: 'not-a-traceparent' });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { field: string }).field, 'opts.trace.traceparent');
});

test('a partitioned queue over HTTP: jobs land in its partitions and its worker runs them; pull workers refuse it', async () => {
  const { base, queue } = await server();
  const producer = new Queue(queue, { connection: redis.url, partitions: 3 });
  open.push(producer);
  await producer.waitUntilReady(); // records the count the server reads
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await post(base, queue, { name: 'p', data: { i } });
    assert.equal(r.status, 202);
    ids.push(((await r.json()) as { jobId: string }).jobId);
  }
  assert.equal((await producer.getCounts()).waiting, 6);
  assert.equal(await raw.exists(queueKeys('hopper', queue).wait), 0, 'nothing in the plain keys');
  // Its job status over SSE: the waiting state first, then the changes heard from its partition.
  const events = await fetch(`${base}/api/v1/queues/${queue}/jobs/${ids[5]}/events`, {
    headers: auth(TOKEN),
    signal: AbortSignal.timeout(15_000),
  });
  assert.equal(events.status, 200);
  const w = new Worker(queue, (job) => (job.data as { i: number }).i, {
    connection: redis.url,
    partitions: 3,
  });
  open.push(w);
  await waitFor('six completed', async () => (await producer.getCounts()).completed === 6);
  const status = (await (await get(base, `/api/v1/queues/${queue}/jobs/${ids[5]}`)).json()) as Status;
  assert.equal(status.state, 'completed');
  assert.equal(status.result, 5);
  const stream = await events.text(); // ends after the final state
  assert.match(stream, /"state":"waiting"/);
  assert.match(stream, /"state":"completed"/);
  const pull = await fetch(`${base}/api/v1/queues/${queue}/fetch`, {
    method: 'POST',
    headers: { ...auth(TOKEN), ...json },
    body: JSON.stringify({ count: 1 }),
  });
  assert.equal(pull.status, 409);
  assert.match(((await pull.json()) as { error: string }).error, /partitioned/);
  // Its metrics, JSON and Prometheus: every partition's, under the queue's name.
  await waitFor('its metrics, summed over the partitions', async () => {
    const body = (await (await get(base, `/api/v1/metrics?days=1&queue=${queue}`)).json()) as MetricsBody;
    return body.queues[queue]?.completedJobs === 6 && body.queues[queue]?.execution.count === 6;
  });
  const prom = await (await get(base, '/metrics')).text();
  assert.match(prom, new RegExp(`hopper_jobs_completed_total\\{queue="${queue}"[^}]*\\} 6\n`));
});
