import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { JobStateError, ValidationError } from '../../src/index.js';
import { QueueFixture } from '../helpers/queue-fixture.js';
import { waitFor } from '../helpers/worker-process.js';

const fx = new QueueFixture({ closeAfterEach: true });
const HOUR = 3600_000;

test('promote runs a delayed job now; a job that is not delayed or does not exist is refused', async () => {
  const q = fx.queue('promote-one');
  const later = await q.add('later', { n: 1 }, { delay: HOUR });
  const now = await q.add('now', { n: 2 });
  await q.promote(later);
  assert.equal((await q.getJob(later))?.state, 'waiting');
  assert.deepEqual(
    (await q.getJobs('waiting')).map((j) => j.id),
    [now, later],
    'behind the jobs already waiting',
  );
  await assert.rejects(q.promote(now), (e) => e instanceof JobStateError && /not delayed/.test(e.message));
  await assert.rejects(
    q.promote('nope'),
    (e) => e instanceof JobStateError && /does not exist/.test(e.message),
  );
  await assert.rejects(q.promote(''), ValidationError);
  const ran: string[] = [];
  fx.worker(q, (job) => void ran.push(job.id));
  await waitFor('both jobs to run', () => ran.length === 2);
});

test('promote puts a delayed grouped job in its group line; a worker runs it', async () => {
  const q = fx.queue('promote-group');
  const id = await q.add('g', {}, { group: 'tenant-a', delay: HOUR });
  await q.promote(id);
  assert.equal((await q.getGroup('tenant-a')).waiting, 1);
  const ran: string[] = [];
  fx.worker(q, (job) => void ran.push(job.id));
  await waitFor('the grouped job to run', () => ran[0] === id);
});

test('promoteAll moves every delayed job (more than one batch) in due order', async () => {
  const q = fx.queue('promote-all');
  const jobs = Array.from({ length: 2500 }, (_, i) => ({
    name: 'd',
    data: { i },
    opts: { delay: HOUR + (2500 - i) },
  }));
  const ids = await q.addBulk(jobs);
  assert.equal(await q.promoteAll(), 2500);
  const counts = await q.getCounts();
  assert.equal(counts.delayed, 0);
  assert.equal(counts.waiting, 2500);
  const first = (await q.getJobs('waiting', 0, 2)).map((j) => j.id);
  assert.deepEqual(first, [ids[2499], ids[2498], ids[2497]], 'soonest due first');
  assert.equal(await q.promoteAll(), 0);
});

test('clean deletes finished jobs older than the age given, at most `limit`, and nothing else', async () => {
  const q = fx.queue('clean');
  const old = await Promise.all([1, 2, 3, 4].map((i) => q.add('ok', { i })));
  const bad = await q.add('bad', {}, { attempts: 1 });
  const w = fx.worker(q, (job) => {
    if (job.name === 'bad') throw new Error('boom');
  });
  await waitFor('jobs to finish', async () => {
    const c = await q.getCounts();
    return c.completed === 4 && c.failed === 1;
  });
  await sleep(300);
  const fresh = await q.add('ok', { fresh: true });
  await waitFor('the fresh job to finish', async () => (await q.getCounts()).completed === 5);
  await w.close();

  assert.deepEqual(await q.clean('completed', HOUR, 10), [], 'none is an hour old');
  const first = await q.clean('completed', 200, 3);
  assert.equal(first.length, 3, 'limit');
  const second = await q.clean('completed', 200, 10);
  assert.deepEqual([...first, ...second].sort(), [...old].sort(), 'only the old ones');
  assert.equal(await q.getJob(old[0]!), null, 'record gone');
  assert.equal((await q.getJob(fresh))?.state, 'completed');
  assert.equal((await q.getCounts()).failed, 1, 'failed untouched by a completed clean');
  assert.deepEqual(await q.clean('failed', 0, 10), [bad]);
  assert.equal((await q.getCounts()).failed, 0);
});

test('clean refuses bad input naming the field and deletes nothing', async () => {
  const q = fx.queue('clean-bad');
  await q.add('x', {});
  const bad: [unknown, unknown, unknown, string][] = [
    ['waiting', 0, 10, 'state'],
    ['completed', -1, 10, 'olderThanMs'],
    ['completed', 1.5, 10, 'olderThanMs'],
    ['failed', 0, 0, 'limit'],
    ['failed', 0, 'x', 'limit'],
  ];
  for (const [state, age, limit, field] of bad) {
    await assert.rejects(
      // biome-ignore lint/suspicious/noExplicitAny: bad input on purpose
      q.clean(state as any, age as any, limit as any),
      (e) => e instanceof ValidationError && e.field === field,
    );
  }
  assert.equal((await q.getCounts()).waiting, 1);
});
