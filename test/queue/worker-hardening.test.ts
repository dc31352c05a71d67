import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Job, type Queue, ValidationError, Worker } from '../../src/index.js';
import { QueueFixture } from '../helpers/queue-fixture.js';
import { waitFor } from '../helpers/worker-process.js';

const fx = new QueueFixture({ closeAfterEach: true });

/** Adds one job and waits until it is finished in Redis, `n` times: each job needs a working acknowledgement loop. */
async function oneByOne(q: Queue, n: number, data: (i: number) => unknown): Promise<void> {
  for (let i = 0; i < n; i++) {
    const id = await q.add('j', data(i));
    await waitFor(`job ${i} to finish`, async () => {
      const state = (await q.getJob(id))?.state;
      return state === 'completed' || state === 'failed';
    });
  }
}

describe('listeners that throw', () => {
  test('a throwing completed, failed or drained listener is reported on error; processing goes on', async () => {
    const q = fx.queue('throwing-listeners');
    const errors: Error[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    // Without the fix the throw escapes as an unhandled rejection: catch it here so the test
    // fails on its assertions rather than crashing the runner.
    process.on('unhandledRejection', onUnhandled);
    try {
      const w = fx.worker<{ fail: boolean }>(q, (job) => {
        if (job.data.fail) throw new Error('handler failed on purpose');
        return 'ok';
      });
      w.on('error', (e: Error) => errors.push(e));
      w.on('completed', () => {
        throw new Error('completed listener broke');
      });
      w.on('failed', () => {
        throw new Error('failed listener broke');
      });
      w.on('drained', () => {
        throw new Error('drained listener broke');
      });
      await oneByOne(q, 6, (i) => ({ fail: i % 2 === 1 }));
      const counts = await q.getCounts();
      assert.equal(counts.completed, 3);
      assert.equal(counts.failed, 3);
      assert.equal(counts.active, 0);
      await waitFor('the drained listener error', () =>
        errors.some((e) => /drained listener/.test(e.message)),
      );
      const messages = new Set(errors.map((e) => e.message));
      assert.ok(
        [...messages].some((m) => /completed listener broke/.test(m)),
        `errors: ${[...messages]}`,
      );
      assert.ok(
        [...messages].some((m) => /failed listener broke/.test(m)),
        `errors: ${[...messages]}`,
      );
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('an error listener that throws does not stop the worker either', async () => {
    const q = fx.queue('throwing-error-listener');
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const w = fx.worker(q, () => 'ok');
      w.on('completed', () => {
        throw new Error('completed listener broke');
      });
      w.on('error', () => {
        throw new Error('error listener broke too');
      });
      await oneByOne(q, 3, () => ({}));
      assert.equal((await q.getCounts()).completed, 3);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('worker options', () => {
  const base = (url: string) => ({ connection: url, autorun: false });
  const bad: [string, (url: string) => Worker][] = [
    ['handler', (url) => new Worker('q', undefined as unknown as (job: Job) => unknown, base(url))],
    ['handler', (url) => new Worker('q', 'run' as unknown as (job: Job) => unknown, base(url))],
    ['options', (_url) => new Worker('q', () => 1, null as never)],
    ['concurrency', (url) => new Worker('q', () => 1, { ...base(url), concurrency: 0 })],
    ['concurrency', (url) => new Worker('q', () => 1, { ...base(url), concurrency: 1.5 })],
    ['prefetch', (url) => new Worker('q', () => 1, { ...base(url), prefetch: -1 })],
    ['leaseMs', (url) => new Worker('q', () => 1, { ...base(url), leaseMs: 50 })],
    ['leaseMs', (url) => new Worker('q', () => 1, { ...base(url), leaseMs: 2 ** 31 })],
    ['jobTimeout', (url) => new Worker('q', () => 1, { ...base(url), jobTimeout: 2 ** 31 })],
    ['maxStalls', (url) => new Worker('q', () => 1, { ...base(url), maxStalls: -1 })],
    ['prefix', (url) => new Worker('q', () => 1, { ...base(url), prefix: '' })],
    ['prefix', (url) => new Worker('q', () => 1, { ...base(url), prefix: 7 as unknown as string })],
    ['autorun', (url) => new Worker('q', () => 1, { connection: url, autorun: 'no' as unknown as boolean })],
    ['schedules', (url) => new Worker('q', () => 1, { ...base(url), schedules: 1 as unknown as boolean })],
  ];
  for (const [field, make] of bad) {
    test(`a bad ${field} throws a ValidationError naming it, before connecting`, () => {
      assert.throws(
        () => make(fx.url),
        (e: unknown) => e instanceof ValidationError && e.field === field,
      );
    });
  }
});
