import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { redisPid } from '../../src/cli/redis-probe.js';
import { AddOutcomeUnknownError, JobStateError, Queue, QueueClosedError } from '../../src/index.js';
import { QueueFixture } from '../helpers/queue-fixture.js';
import { type RedisProcess, startRedis } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/worker-process.js';

const fx = new QueueFixture({ closeAfterEach: true });
const queue = fx.queue.bind(fx);
const worker = fx.worker.bind(fx);

const stateOf = async (q: Queue, id: string) => (await q.getJob(id))?.state;

describe('getJobs', () => {
  test('end -1 lists every state to its end, waiting ones of every kind included', async () => {
    const q = queue('getjobs');
    await q.pause(); // nothing runs while the states are listed
    const plain = [await q.add('j', 1), await q.add('j', 2)];
    const urgent = await q.add('j', 3, { priority: 2 });
    const grouped = await q.add('j', 4, { group: 'g' });
    const groupedUrgent = await q.add('j', 5, { group: 'g', priority: 1 });
    const delayed = [await q.add('j', 6, { delay: 60_000 }), await q.add('j', 7, { delay: 60_000 })];
    const ids = async (state: Parameters<typeof q.getJobs>[0], start: number, end: number) =>
      (await q.getJobs(state, start, end)).map((j) => j.id);
    assert.deepEqual(await ids('waiting', 0, -1), [urgent, ...plain, groupedUrgent, grouped]);
    assert.deepEqual(await ids('waiting', 1, -1), [...plain, groupedUrgent, grouped]);
    assert.deepEqual(await ids('waiting', 3, -1), [groupedUrgent, grouped]);
    assert.deepEqual(await ids('delayed', 0, -1), delayed);
  });

  test('bad ranges are refused naming the argument', async () => {
    const q = queue('getjobs-bad');
    await assert.rejects(q.getJobs('waiting', -1, 5), { name: 'ValidationError', field: 'start' });
    await assert.rejects(q.getJobs('waiting', 0, 1.5), { name: 'ValidationError', field: 'end' });
    await assert.rejects(q.getJobs('waiting', 0, -2), { name: 'ValidationError', field: 'end' });
  });
});

describe('retry of an until-done job', () => {
  test('takes its key again, so a second live job with the key cannot be added', async () => {
    const q = queue('ud-retry');
    const dedup = { key: 'wallet-7', mode: 'until-done' } as const;
    let fail = true;
    const w = worker(q, () => {
      if (fail) throw new Error('fails while fail is set');
    });
    const a = await q.add('j', 1, { dedup });
    await waitFor('failed for good', async () => (await stateOf(q, a)) === 'failed');
    await w.close(); // the retried job waits, so the key must be held by it
    await q.retry(a);
    assert.equal(await stateOf(q, a), 'waiting');
    assert.equal(await q.add('j', 2, { dedup }), a, 'the retried job holds the key');
    assert.equal((await q.getCounts()).waiting, 1);
    // And frees it when it finishes.
    fail = false;
    worker(q, () => {});
    await waitFor('the retried job completed', async () => (await stateOf(q, a)) === 'completed');
    assert.notEqual(await q.add('j', 3, { dedup, delay: 60_000 }), a, 'the key is free again');
  });

  test('is refused while another live job holds the key; retryAll leaves it failed', async () => {
    const q = queue('ud-retry-held');
    const dedup = { key: 'k', mode: 'until-done' } as const;
    const w = worker(q, () => {
      throw new Error('fails');
    });
    const a = await q.add('j', 1, { dedup });
    const other = await q.add('j', 2, { attempts: 1 }); // fails too, without a key
    await waitFor('both failed', async () => (await q.getCounts()).failed === 2);
    await w.close();
    const b = await q.add('j', 3, { dedup });
    assert.notEqual(b, a, 'the failed job freed the key');
    await assert.rejects(q.retry(a), (err: unknown) => {
      assert.ok(err instanceof JobStateError);
      assert.match(err.message, new RegExp(`held by live job ${b}`));
      return true;
    });
    assert.equal(await stateOf(q, a), 'failed');
    assert.equal(await q.retryAll(), 1, 'only the job without a held key');
    assert.equal(await stateOf(q, a), 'failed');
    assert.equal(await stateOf(q, other), 'waiting');
    assert.equal((await q.getCounts()).waiting, 2);
  });
});

/** Kills the producer connections of the fixture's server every `everyMs` until stopped; counts kills. */
function killStorm(everyMs: number): { stop: () => Promise<number> } {
  let running = true;
  let kills = 0;
  const loop = (async () => {
    while (running) {
      const list = (await fx.raw.client('LIST')) as string;
      for (const line of list.split('\n')) {
        if (!line.includes(' name=hopper:producer ')) continue;
        const id = line.match(/^id=(\d+)/)?.[1];
        if (id) kills += Number(await fx.raw.client('KILL', 'ID', id).catch(() => 0));
      }
      await sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return kills;
    },
  };
}

describe('idempotent adds', () => {
  test('under a CLIENT KILL storm every add is stored exactly once', async () => {
    const q = queue('storm');
    const total = 4000;
    const inFlight = 100;
    const storm = killStorm(15);
    const outcomes: (string | AddOutcomeUnknownError)[] = new Array(total);
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < total) {
          const i = next++;
          // A few kinds of job: generated ids on the fast path, delayed ones, jobIds.
          const opts = i % 10 === 1 ? { delay: 60_000 } : i % 10 === 2 ? { jobId: `mine-${i}` } : undefined;
          outcomes[i] = await q.add('j', { marker: i }, opts).catch((err: unknown) => {
            if (err instanceof AddOutcomeUnknownError) return err;
            throw err;
          });
        }
      }),
    );
    const kills = await storm.stop();
    assert.ok(kills >= 5, `the storm killed connections (${kills})`);
    // Outcomes the storm left unknown are settled now that Redis answers.
    const ids = new Map<number, string>();
    for (let i = 0; i < total; i++) {
      const o = outcomes[i]!;
      const id = typeof o === 'string' ? o : ((await q.resolveAdd(o)) ?? [])[0];
      if (id !== undefined) ids.set(i, id);
    }
    const stored = await fx.raw.hgetall(q.keys.jobs);
    const markers = Object.values(stored).map(
      (r) => (JSON.parse(r.split('\n')[3]!) as { marker: number }).marker,
    );
    assert.equal(new Set(markers).size, markers.length, 'no job stored twice');
    assert.equal(markers.length, ids.size, 'every stored job is one an add reported');
    for (const [i, id] of ids) assert.equal(JSON.parse(stored[id]!.split('\n')[3]!).marker, i);
    const counts = await q.getCounts();
    assert.equal(counts.waiting + counts.delayed, ids.size, 'each stored job is in line once');
  });
});

describe('an add during an outage', () => {
  /** A server of its own (these tests stop it), a queue with a short addTimeout, and a raw client. */
  async function setup(label: string, addTimeout: number) {
    const redis = await startRedis();
    const pid = (await redisPid('127.0.0.1', redis.port, 1000))!;
    const q = new Queue(label, { connection: redis.url, addTimeout, metrics: false });
    await q.add('warm-up', 0); // connected, scripts loaded
    const cleanup = async () => {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // killed by the test: restart() made a new process
      }
      await q.close();
      await redis.stop();
    };
    fx.track({ close: cleanup });
    return { redis, pid, q };
  }

  const jobCount = async (redis: RedisProcess, q: Queue) => {
    const { Redis } = await import('ioredis');
    const raw = new Redis(redis.url);
    try {
      return await raw.hlen(q.keys.jobs);
    } finally {
      raw.disconnect();
    }
  };

  test('a stopped server past addTimeout: AddOutcomeUnknownError, and resolveAdd tells the outcome', async () => {
    const { redis, pid, q } = await setup('stopped', 600);
    process.kill(pid, 'SIGSTOP');
    const started = Date.now();
    const err = await q.add('j', { n: 1 }, { jobId: 'mine' }).then(
      () => assert.fail('resolved while Redis was stopped'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof AddOutcomeUnknownError, String(err));
    assert.ok(Date.now() - started >= 550, 'not before the deadline');
    assert.deepEqual(err.jobIds, ['mine']);
    assert.match(err.message, /outcome unknown/);
    process.kill(pid, 'SIGCONT');
    // The call sat in the stopped server's socket and ran on SIGCONT: resolveAdd finds it.
    assert.deepEqual(await q.resolveAdd(err), ['mine']);
    assert.equal(await jobCount(redis, q), 2, 'warm-up and the job, once');
  });

  test('a killed server past addTimeout: AddOutcomeUnknownError; resolveAdd after a restart agrees with what is stored', async () => {
    const { redis, q } = await setup('killed', 600);
    await redis.kill9();
    const err = await q.add('j', { n: 1 }).then(
      () => assert.fail('resolved while Redis was down'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof AddOutcomeUnknownError, String(err));
    assert.deepEqual(err.jobIds, [undefined]);
    await redis.restart(); // empty: no AOF
    // ioredis may still hold the call in its offline queue and send it on reconnect
    // (before resolveAdd, on the same connection): either way the answer is certain.
    const ids = await q.resolveAdd(err);
    assert.equal(await jobCount(redis, q), ids === null ? 0 : 1);
    assert.equal(
      await q.resolveAdd(err).then((again) => again?.length ?? 0),
      ids?.length ?? 0,
      'the same answer twice',
    );
    assert.match(await q.add('j', { n: 2 }), /^\d+$/, 'adds work again');
  });

  test('a server back before addTimeout: the add resolves, stored exactly once', async () => {
    const { redis, pid, q } = await setup('back', 10_000);
    process.kill(pid, 'SIGSTOP');
    const pending = q.add('j', { n: 1 });
    await sleep(500);
    process.kill(pid, 'SIGCONT');
    const id = await pending;
    assert.deepEqual((await q.getJob(id))?.data, { n: 1 });
    assert.equal(await jobCount(redis, q), 2);
  });

  test('a server killed and restarted before addTimeout: the adds resolve, each stored once', async () => {
    const { redis, q } = await setup('restarted', 10_000);
    await redis.kill9();
    const pending = Promise.all([1, 2, 3].map((n) => q.add('j', { n })));
    await sleep(700); // past ioredis's own retries (maxRetriesPerRequest 3)
    await redis.restart();
    const ids = await pending;
    assert.equal(new Set(ids).size, 3);
    assert.equal(await jobCount(redis, q), 3, 'the restarted server is empty: only these three');
  });
});

describe('close()', () => {
  test('adds made in the same turn as close(), after a second of idleness, are all stored', async () => {
    for (let run = 0; run < 3; run++) {
      const q = new Queue(`close-${run}-${Date.now()}`, { connection: fx.url });
      await q.add('first', 0);
      await sleep(1100);
      const adds = Array.from({ length: 20 }, (_, i) => q.add('j', i));
      const closed = q.close();
      const ids = await Promise.all(adds);
      await closed;
      assert.equal(new Set(ids).size, 20);
      assert.equal(await fx.raw.hlen(q.keys.jobs), 21, `run ${run}`);
    }
  });

  test('an add after close() is refused with QueueClosedError; nothing written', async () => {
    const q = new Queue(`closed-${Date.now()}`, { connection: fx.url });
    await q.add('first', 0);
    const closed = q.close();
    await assert.rejects(q.add('late', 1), QueueClosedError);
    await assert.rejects(q.addBulk([{ name: 'late', data: 1 }]), QueueClosedError);
    await closed;
    assert.equal(await fx.raw.hlen(q.keys.jobs), 1);
  });
});

describe('delayed jobs due in the same millisecond', () => {
  test('run in add order, not in string order of their ids', async () => {
    const q = queue('delayed-fifo');
    // One batch: one Redis clock reading, so all are due at the same millisecond.
    const ids = await Promise.all(Array.from({ length: 12 }, (_, i) => q.add('j', i, { delay: 200 })));
    const scores = await fx.raw.zrange(q.keys.delayed, '0', '-1', 'WITHSCORES');
    assert.equal(new Set(scores.filter((_, i) => i % 2 === 1)).size, 1, 'all due at the same ms');
    const seen: number[] = [];
    worker<number>(q, (job) => {
      seen.push(job.data);
    });
    await waitFor('all ran', () => seen.length === 12, 5000);
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], `ids ${ids.join(',')}`);
  });
});
