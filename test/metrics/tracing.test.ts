import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { type Job, Queue, ValidationError, Worker } from '../../src/index.js';
import { tracingApi } from '../../src/tracing/api.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';

requireRedisServer();
let redis: RedisProcess;
let n = 0;
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const open: { close(): Promise<void> }[] = [];

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await Promise.all(open.map((o) => o.close()));
  trace.disable();
  context.disable();
  await redis.stop();
});

function queueAndName(): { queue: Queue; name: string } {
  const name = `trace-${++n}`;
  const queue = new Queue(name, { connection: redis.url, metrics: false });
  open.push(queue);
  return { queue, name };
}

function runWorker(name: string, handler: (job: Job) => unknown, events: 'completed' | 'failed', count = 1) {
  let left = count;
  const worker = new Worker(name, handler, { connection: redis.url, metrics: false });
  open.push(worker);
  return new Promise<void>((resolve) =>
    worker.on(events, () => {
      if (--left === 0) resolve();
    }),
  );
}

/** Spans are exported when they end, which is right after the worker settles the attempt. */
async function spansNamed(name: string, count: number) {
  for (let i = 0; i < 200; i++) {
    const found = exporter.getFinishedSpans().filter((s) => s.name === name);
    if (found.length >= count) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`expected ${count} spans named ${name}`);
}

// First, before any provider is registered: the API is installed but tracing is off.
test('with no tracer provider registered, nothing is injected and jobs run', async () => {
  const { queue, name } = queueAndName();
  const id = await queue.add('j', { a: 1 });
  assert.equal(tracingApi(), undefined, 'tracing off without a provider');
  const done = runWorker(name, () => 'ok', 'completed');
  await done;
  const job = await queue.getJob(id);
  assert.equal(job?.state, 'completed');
  assert.equal(job?.opts.trace, undefined, 'no carrier stored');
});

test('a job added inside a producer span is processed in a child span of the same trace', async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  const { queue, name } = queueAndName();
  const tracer = trace.getTracer('test');
  let producer!: Span;
  const innerTraceIds = new Map<string, string | undefined>();
  const id = await tracer.startActiveSpan('produce', async (span) => {
    producer = span;
    try {
      return await queue.add('j', { a: 1 });
    } finally {
      span.end();
    }
  });
  const stored = await queue.getJob(id);
  const ctx = producer.spanContext();
  assert.equal(stored?.opts.trace?.traceparent, `00-${ctx.traceId}-${ctx.spanId}-01`);

  // addBulk carries it too.
  const [bulkId] = await tracer.startActiveSpan('produce-bulk', async (span) => {
    try {
      return await queue.addBulk([{ name: 'j', data: {} }]);
    } finally {
      span.end();
    }
  });
  assert.match((await queue.getJob(bulkId!))?.opts.trace?.traceparent ?? '', /^00-[0-9a-f]{32}-/);

  const done = runWorker(
    name,
    (job) => {
      innerTraceIds.set(job.id, trace.getActiveSpan()?.spanContext().traceId);
    },
    'completed',
    2,
  );
  await done;
  const spans = await spansNamed(`${name} process`, 2);
  const attempt = spans.find((s) => s.attributes['messaging.message.id'] === id)!;
  assert.ok(attempt, 'a span for the job');
  assert.equal(attempt.spanContext().traceId, ctx.traceId, 'same trace');
  assert.equal(attempt.parentSpanContext?.spanId, ctx.spanId, 'the producer span is the parent');
  assert.equal(attempt.kind, SpanKind.CONSUMER);
  assert.equal(attempt.attributes['messaging.system'], 'hopper');
  assert.equal(attempt.attributes['messaging.destination.name'], name);
  assert.equal(attempt.attributes['hopper.job.attempt'], 1);
  assert.equal(attempt.status.code, SpanStatusCode.UNSET);
  assert.ok(spans.some((s) => s.attributes['messaging.message.id'] === bulkId));
  assert.equal(innerTraceIds.get(id), ctx.traceId, 'the handler runs with the attempt span active');
});

test('a job added with no active span gets a root attempt span', async () => {
  const { queue, name } = queueAndName();
  const id = await queue.add('j', {});
  assert.equal((await queue.getJob(id))?.opts.trace, undefined);
  await runWorker(name, () => null, 'completed');
  const [span] = await spansNamed(`${name} process`, 1);
  assert.equal(span!.parentSpanContext, undefined);
});

test('a failing attempt records the error and status ERROR; each attempt is its own span', async () => {
  const { queue, name } = queueAndName();
  const id = await trace.getTracer('test').startActiveSpan('produce', async (span) => {
    try {
      return await queue.add('j', {}, { attempts: 2 });
    } finally {
      span.end();
    }
  });
  await runWorker(
    name,
    () => {
      throw new Error('wallet locked');
    },
    'failed',
    2,
  );
  const spans = await spansNamed(`${name} process`, 2);
  assert.deepEqual(spans.map((s) => s.attributes['hopper.job.attempt']).sort(), [1, 2]);
  for (const s of spans) {
    assert.equal(s.attributes['messaging.message.id'], id);
    assert.equal(s.status.code, SpanStatusCode.ERROR);
    assert.equal(s.status.message, 'wallet locked');
    const ev = s.events.find((e) => e.name === 'exception');
    assert.equal(ev?.attributes?.['exception.message'], 'wallet locked');
  }
  assert.equal(spans[0]!.spanContext().traceId, spans[1]!.spanContext().traceId);
});

test('a timed-out attempt ends its span with the timeout error', async () => {
  const { queue, name } = queueAndName();
  await queue.add('j', {}, { timeout: 100 });
  await runWorker(name, () => new Promise((r) => setTimeout(r, 1000)), 'failed');
  const [span] = await spansNamed(`${name} process`, 1);
  assert.equal(span!.status.code, SpanStatusCode.ERROR);
  assert.match(span!.status.message ?? '', /timed out/);
  const ms = span!.duration[0] * 1000 + span!.duration[1] / 1e6;
  assert.ok(ms >= 90 && ms < 900, `span ended at the timeout, after ${ms} ms`);
});

test('opts.trace is accepted only as a W3C carrier, and a given one is relayed as is', async () => {
  const { queue } = queueAndName();
  const bad: [unknown, string][] = [
    ['00-abc', 'opts.trace'],
    [{ traceparent: 'nope' }, 'opts.trace.traceparent'],
    [{ traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, baggage: 'x' }, 'opts.trace.baggage'],
    [
      { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, tracestate: 'x'.repeat(513) },
      'opts.trace.tracestate',
    ],
  ];
  for (const [t, field] of bad) {
    await assert.rejects(
      queue.add('j', {}, { trace: t } as never),
      (e: unknown) => e instanceof ValidationError && e.field === field,
      field,
    );
  }
  assert.deepEqual(await queue.getCounts(), {
    waiting: 0,
    delayed: 0,
    active: 0,
    reserved: 0,
    completed: 0,
    failed: 0,
    waitingChildren: 0,
  });
  const given = { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, tracestate: 'k=v' };
  const id = await trace.getTracer('test').startActiveSpan('other', async (span) => {
    try {
      return await queue.add('j', {}, { trace: given });
    } finally {
      span.end();
    }
  });
  assert.deepEqual((await queue.getJob(id))?.opts.trace, given);
});
