import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QueueFixture } from '../helpers/queue-fixture.js';
import { waitFor } from '../helpers/worker-process.js';

/** The history of failed attempts a job keeps (fail-record.lua), and its deletion with the job. */
const fx = new QueueFixture({ closeAfterEach: true });

/** Runs a job that fails on every attempt until it is failed for good; returns its id. */
async function failingJob(label: string, attempts: number, message = (n: number) => `boom ${n}`) {
  const q = fx.queue(label);
  const id = await q.add('f', { x: 1 }, { attempts, backoff: { type: 'fixed', delay: 0 } });
  let n = 0;
  fx.worker(q, () => {
    n++;
    const e = new Error(message(n));
    e.stack = `Error: ${message(n)}\n    at attempt${n} (handler.ts:${n}:1)`;
    throw e;
  });
  await waitFor('the job to fail for good', async () => (await q.getJob(id))?.state === 'failed');
  return { q, id };
}

test('a job failing 3 times shows the 3 attempts with their stacks, oldest first', async () => {
  const { q, id } = await failingJob('hist3', 3);
  const job = (await q.getJob(id))!;
  assert.equal(job.attemptsMade, 3);
  assert.deepEqual(
    job.errors!.map((a) => [a.attempt, a.error.message, a.error.stack]),
    [1, 2, 3].map((n) => [n, `boom ${n}`, `Error: boom ${n}\n    at attempt${n} (handler.ts:${n}:1)`]),
  );
  for (const a of job.errors!) assert.ok(a.startedAt <= a.failedAt && a.failedAt > 0);
  assert.equal(job.error!.message, 'boom 3', 'error is the last attempt');
});

test('the history keeps the last 10 attempts and cuts big errors', async () => {
  const { q, id } = await failingJob('hist12', 12, (n) => `boom ${n} ${'x'.repeat(n === 12 ? 10_000 : 10)}`);
  const job = (await q.getJob(id))!;
  assert.equal(job.attemptsMade, 12);
  assert.deepEqual(
    job.errors!.map((a) => a.attempt),
    [3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
  );
  const last = job.errors!.at(-1)!;
  assert.equal(last.error.message.length, 2000, 'a big message is cut');
  assert.ok(last.error.message.startsWith('boom 12 xxx'));
  assert.equal(job.errors![0]!.error.message, `boom 3 ${'x'.repeat(10)}`, 'small errors are kept whole');
});

test('removing, cleaning, draining or trimming a job deletes its history', async () => {
  const raw = fx.raw;
  {
    const removed = await failingJob('histrm', 2);
    assert.equal((await removed.q.getJob(removed.id))!.errors!.length, 2);
    assert.ok(await raw.hexists(removed.q.keys.errors, removed.id));
    await removed.q.remove(removed.id);
    assert.equal(await raw.hexists(removed.q.keys.errors, removed.id), 0, 'remove deletes it');

    const cleaned = await failingJob('histclean', 2);
    assert.deepEqual(await cleaned.q.clean('failed', 0), [cleaned.id]);
    assert.equal(await raw.hexists(cleaned.q.keys.errors, cleaned.id), 0, 'clean deletes it');

    // Drain: a job waiting (delayed) for its next attempt goes with its history.
    const drained = fx.queue('histdrain');
    const did = await drained.add('f', {}, { attempts: 3, backoff: 3600_000 });
    fx.worker(drained, () => {
      throw new Error('later');
    });
    await waitFor('the first attempt to fail', async () => (await drained.getJob(did))?.state === 'delayed');
    assert.equal((await drained.getJob(did))!.errors!.length, 1);
    await drained.drain();
    assert.equal(await raw.hexists(drained.keys.errors, did), 0, 'drain deletes it');

    // Retention by count: the oldest failed job's record (and history) goes when a newer one fails.
    const q = fx.queue('histkeep');
    const ids = [
      await q.add('f', {}, { attempts: 2, backoff: { type: 'fixed', delay: 0 }, removeOnFail: 1 }),
    ];
    let first = true;
    fx.worker(q, () => {
      throw new Error(first ? 'first job' : 'second job');
    });
    await waitFor('the first job to fail', async () => (await q.getJob(ids[0]!))?.state === 'failed');
    assert.ok(await raw.hexists(q.keys.errors, ids[0]!));
    first = false;
    ids.push(await q.add('f', {}, { attempts: 2, backoff: { type: 'fixed', delay: 0 }, removeOnFail: 1 }));
    await waitFor('the second job to fail', async () => (await q.getJob(ids[1]!))?.state === 'failed');
    assert.equal(await raw.hexists(q.keys.errors, ids[0]!), 0, 'retention deletes it');
    assert.equal((await q.getJob(ids[1]!))!.errors!.length, 2);
  }
});
