/**
 * `@opentelemetry/api` is optional: here its import fails (as when it is not installed),
 * in a process of its own since the loader runs once. Even with a provider registered
 * through the test's own copy of the API, Hopper traces nothing and jobs run.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { Queue, Worker } from '../../src/index.js';
import { loadTracing, tracingApi, tracingPending } from '../../src/tracing/api.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';

requireRedisServer();
let redis: RedisProcess;
const exporter = new InMemorySpanExporter();

before(async () => {
  const loaded = await loadTracing(() =>
    Promise.reject(new Error("Cannot find package '@opentelemetry/api'")),
  );
  assert.equal(loaded, undefined);
  redis = await startRedis();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
});
after(async () => {
  trace.disable();
  context.disable();
  await redis.stop();
});

test('when the API cannot be imported, tracing is off and jobs run', async () => {
  assert.equal(tracingPending(), undefined, 'the failed load is settled: no add waits for it');
  assert.equal(tracingApi(), undefined);
  const queue = new Queue('absent', { connection: redis.url, metrics: false });
  const worker = new Worker('absent', () => 'ok', { connection: redis.url, metrics: false });
  const completed = new Promise((resolve) => worker.on('completed', resolve));
  const id = await trace.getTracer('test').startActiveSpan('produce', async (span) => {
    try {
      return await queue.add('j', {});
    } finally {
      span.end();
    }
  });
  await completed;
  assert.equal((await queue.getJob(id))?.opts.trace, undefined, 'no carrier stored');
  assert.deepEqual(
    exporter.getFinishedSpans().map((s) => s.name),
    ['produce'],
    'only the test span: no attempt span',
  );
  await worker.close();
  await queue.close();
});
