import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Queue } from '../../src/index.js';
import { queueSpoolTarget, type SpooledJobs } from '../../src/queue/spool-target.js';
import { SpoolLog } from '../../src/spool/log.js';
import { validateSpoolOptions } from '../../src/spool/options.js';
import { FixtureProcess } from '../helpers/fixture-process.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { quiet, uniqueName, waitFor } from '../helpers/worker-process.js';

requireRedisServer();

let redis: RedisProcess;
let tmp: string;
const children: FixtureProcess[] = [];

before(async () => {
  redis = await startRedis({ aof: true, args: ['--appendfsync', 'always'] });
  tmp = mkdtempSync(join(tmpdir(), 'hopper-spool-kill-'));
});

after(async () => {
  for (const c of children) if (c.running) c.proc.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  await redis?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function producer(queue: string, dir: string, from: number, count: number): FixtureProcess {
  const child = new FixtureProcess('test/fixtures/spool-producer.ts', {
    REDIS_URL: redis.url,
    QUEUE: queue,
    SPOOL_DIR: dir,
    FROM: String(from),
    COUNT: String(count),
  });
  children.push(child);
  return child;
}

const lastNumber = (child: FixtureProcess, word: string) =>
  Math.max(-1, ...child.lines.filter((l) => l.startsWith(`${word} `)).map((l) => Number(l.split(' ')[1])));

/** The `n` of every job stored, in line order (oldest first). */
async function storedNumbers(q: Queue): Promise<number[]> {
  const jobs = await q.getJobs('waiting', 0, -1);
  return jobs.map((j) => (j.data as { n: number }).n);
}

describe('queue spool and SIGKILL', () => {
  test('a producer killed while spooling, the next killed while replaying: the third replays the rest, nothing lost or doubled', async () => {
    const name = uniqueName('kill');
    const dir = join(tmp, name);
    await redis.kill9();
    const first = producer(name, dir, 0, 100_000);
    await first.waitForLine(
      (l) => l.startsWith('added ') && Number(l.split(' ')[1]) >= 1500,
      'added 1500',
      30_000,
    );
    first.proc.kill('SIGKILL');
    await first.exited;
    const confirmed = lastNumber(first, 'added');

    await redis.restart();
    const second = producer(name, dir, 0, 0);
    await second.waitForLine((l) => l.startsWith('replayed '), 'replayed', 30_000);
    second.proc.kill('SIGKILL');
    await second.exited;
    assert.ok(!second.lines.includes('drained'), 'the second producer was killed before its spool drained');

    const third = producer(name, dir, 0, 0);
    await third.waitForExact('drained', 30_000);
    const q = new Queue(name, { connection: redis.url, logger: quiet });
    const ns = await storedNumbers(q);
    assert.ok(
      ns.length > confirmed,
      `every confirmed add is stored (${ns.length} stored, ${confirmed + 1} confirmed)`,
    );
    assert.deepEqual(
      ns,
      Array.from({ length: ns.length }, (_, i) => i),
      'each job once, in the order added',
    );
    third.proc.kill('SIGKILL');
    await third.exited;
    await q.obliterate({ force: true });
    await q.close();
  });

  test('records applied to Redis but not acknowledged in the spool are not applied again', async () => {
    const name = uniqueName('unacked');
    const dir = join(tmp, name);
    await redis.kill9();
    const q1 = new Queue(name, { connection: redis.url, logger: quiet, spool: { dir, timeout: 200 } });
    const ids = await Promise.all(Array.from({ length: 100 }, (_, n) => q1.add('j', { n })));
    assert.equal(q1.spoolStats()!.depth, 100);
    await q1.close();
    await redis.restart();

    // A replayer that applied half the records and died before acknowledging them.
    const probe = new Queue(name, { connection: redis.url, logger: quiet });
    const log = new SpoolLog(validateSpoolOptions('spool', { dir }));
    const records = log.read(50);
    const target = queueSpoolTarget((probe as unknown as { client: never }).client, probe.keys, undefined);
    const items = records.map((r) => ({ seq: r.seq, value: target.decode(r.body) as SpooledJobs }));
    const applied = await target.apply(records[0]!.run, items, false);
    assert.ok('ids' in applied && applied.ids.length === 50, 'the first 50 records applied');
    assert.equal((await probe.getCounts()).waiting, 50);
    log.close();

    const q2 = new Queue(name, { connection: redis.url, logger: quiet, spool: { dir } });
    await waitFor('spool drained', () => q2.spoolStats()!.depth === 0, 10_000);
    const ns = await storedNumbers(q2);
    assert.deepEqual(
      ns,
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.deepEqual(
      (await q2.getJobs('waiting', 0, -1)).map((j) => j.id),
      ids,
    );
    await q2.obliterate({ force: true });
    await Promise.all([q2.close(), probe.close()]);
  });
});
