import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { type Job, Queue, Worker } from '../../src/index.js';
import { queueScripts } from '../../src/queue/scripts.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import {
  killWorkerProcesses,
  logLines,
  quiet,
  startWorkerProcess,
  stateOf,
  uniqueName,
  waitFor,
} from '../helpers/worker-process.js';

requireRedisServer();

let redis: RedisProcess;
let tmp: string;

before(async () => {
  redis = await startRedis();
  tmp = mkdtempSync(join(tmpdir(), 'hopper-reliability-'));
});

after(async () => {
  await killWorkerProcesses();
  await redis?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('worker crashes', () => {
  test('a job held by a worker process killed with SIGKILL runs again elsewhere and completes', async () => {
    const name = uniqueName('kill9');
    const log = join(tmp, `${name}.log`);
    const queue = new Queue(name, { connection: redis.url, logger: quiet });
    let worker: Worker | undefined;
    try {
      const child = await startWorkerProcess({
        REDIS_URL: redis.url,
        QUEUE: name,
        LOG: log,
        MODE: 'hang',
        LEASE_MS: '600',
      });
      const id = await queue.add('crash-me', { n: 1 });
      await waitFor('the child to hold the job', async () => (await stateOf(queue, id)) === 'active');
      await waitFor('the child handler to start', () => logLines(log).includes(id));

      await child.kill9();
      const killedAt = Date.now();
      assert.equal(
        await stateOf(queue, id),
        'active',
        'a dead worker still holds the job until its lease lapses',
      );

      const ran: string[] = [];
      worker = new Worker(
        name,
        async (job: Job) => {
          ran.push(job.id);
          return 'second worker';
        },
        { connection: redis.url, leaseMs: 600, logger: quiet },
      );
      await waitFor(
        'the job to complete on the second worker',
        async () => (await stateOf(queue, id)) === 'completed',
      );
      const recoveredIn = Date.now() - killedAt;

      const info = (await queue.getJob(id))!;
      assert.equal(info.state, 'completed');
      assert.equal(info.stalls, 1, 'the lease loss is counted once');
      assert.equal(info.attemptsMade, 0, 'a stall is not a failed attempt');
      assert.equal(info.returnValue, 'second worker');
      assert.deepEqual(ran, [id], 'the second worker ran it exactly once');
      assert.deepEqual(logLines(log), [id], 'the killed worker started it once');
      // Lease 600 ms, heartbeat every 200 ms: recovery must not wait for anything much longer.
      assert.ok(recoveredIn < 3000, `recovered in ${recoveredIn} ms`);
      assert.deepEqual(await queue.getCounts(), {
        waiting: 0,
        delayed: 0,
        active: 0,
        reserved: 0,
        completed: 1,
        failed: 0,
        waitingChildren: 0,
      });
    } finally {
      await worker?.close({ timeout: 1000 });
      await queue.close();
    }
  });

  test('a job whose workers die more than maxStalls times fails with a StalledError', async () => {
    const name = uniqueName('stall-out');
    const log = join(tmp, `${name}.log`);
    const queue = new Queue(name, { connection: redis.url, logger: quiet });
    const env = { REDIS_URL: redis.url, QUEUE: name, LOG: log, MODE: 'hang', LEASE_MS: '600' };
    let worker: Worker | undefined;
    try {
      const first = await startWorkerProcess(env);
      // Several attempts allowed: stalling out must fail the job anyway, not retry it.
      const id = await queue.add('doomed', null, { attempts: 5 });
      await waitFor('the first child to start the job', () => logLines(log).length === 1);
      await first.kill9();

      // The second child's own heartbeat takes the job back once the first lease lapses, then runs it.
      const second = await startWorkerProcess(env);
      await waitFor('the second child to start the job', () => logLines(log).length === 2, 5000);
      const midway = (await queue.getJob(id))!;
      assert.equal(midway.state, 'active');
      assert.equal(midway.stalls, 1);
      await second.kill9();

      const ran: string[] = [];
      worker = new Worker(
        name,
        async (job: Job) => {
          ran.push(job.id);
        },
        { connection: redis.url, leaseMs: 600, maxStalls: 1, logger: quiet },
      );
      await waitFor('the job to fail', async () => (await stateOf(queue, id)) === 'failed');
      const info = (await queue.getJob(id))!;
      assert.equal(info.stalls, 2);
      assert.equal(info.error?.name, 'StalledError');
      assert.match(info.error?.message ?? '', /stalled 2 times/);
      assert.match(info.error?.message ?? '', /maxStalls=1/);
      assert.equal(info.attemptsMade, 1, 'stalling out counts as the failed attempt');
      assert.equal(typeof info.finishedOn, 'number');
      assert.deepEqual(ran, [], 'the job must not run a third time');
      assert.deepEqual(logLines(log), [id, id]);
      assert.deepEqual(await queue.getCounts(), {
        waiting: 0,
        delayed: 0,
        active: 0,
        reserved: 0,
        completed: 0,
        failed: 1,
        waitingChildren: 0,
      });
    } finally {
      await worker?.close({ timeout: 1000 });
      await queue.close();
    }
  });

  test('with maxStalls 0 the first worker death fails the job', async () => {
    const name = uniqueName('stall-zero');
    const log = join(tmp, `${name}.log`);
    const queue = new Queue(name, { connection: redis.url, logger: quiet });
    let worker: Worker | undefined;
    try {
      const child = await startWorkerProcess({
        REDIS_URL: redis.url,
        QUEUE: name,
        LOG: log,
        MODE: 'hang',
        LEASE_MS: '600',
      });
      const id = await queue.add('doomed', null);
      await waitFor('the child to start the job', () => logLines(log).length === 1);
      await child.kill9();
      let ran = 0;
      worker = new Worker(
        name,
        async () => {
          ran++;
        },
        { connection: redis.url, leaseMs: 600, maxStalls: 0, logger: quiet },
      );
      await waitFor('the job to fail', async () => (await stateOf(queue, id)) === 'failed');
      const info = (await queue.getJob(id))!;
      assert.equal(info.error?.name, 'StalledError');
      assert.match(info.error?.message ?? '', /stalled 1 times \(more than maxStalls=0\)/);
      assert.equal(info.stalls, 1);
      assert.equal(ran, 0);
    } finally {
      await worker?.close({ timeout: 1000 });
      await queue.close();
    }
  });
});

describe('graceful close', () => {
  test('close midway through 500 jobs loses none and runs none twice', async () => {
    const name = uniqueName('graceful');
    const queue = new Queue(name, { connection: redis.url, logger: quiet });
    const executions = new Map<string, number>();
    const handler = async (job: Job) => {
      executions.set(job.id, (executions.get(job.id) ?? 0) + 1);
      await sleep(5);
      return job.id;
    };
    const options = { connection: redis.url, concurrency: 20, leaseMs: 600, logger: quiet };
    let first: Worker | undefined;
    let second: Worker | undefined;
    try {
      const ids = await queue.addBulk(
        Array.from({ length: 500 }, (_, i) => ({
          name: 'n',
          data: { i },
          opts: { removeOnComplete: false },
        })),
      );
      assert.equal(new Set(ids).size, 500);

      first = new Worker(name, handler, options);
      const completedByFirst: string[] = [];
      first.on('completed', (job: Job) => completedByFirst.push(job.id));
      await waitFor('the first worker to be midway', () => executions.size >= 150, 10_000);
      const t0 = Date.now();
      await first.close({ timeout: 2000 });
      const closeMs = Date.now() - t0;
      assert.ok(closeMs < 2000, `close waited for 5 ms jobs, not for its timeout (took ${closeMs} ms)`);

      const ranOnFirst = [...executions.keys()];
      assert.ok(ranOnFirst.length < 500, 'close came before the queue was done');
      const midway = await queue.getCounts();
      assert.equal(midway.active, 0, 'nothing is left held by the closed worker');
      assert.equal(midway.completed, ranOnFirst.length, 'every job started before close was acknowledged');
      assert.equal(midway.waiting, 500 - ranOnFirst.length, 'prefetched jobs went back to waiting');
      assert.deepEqual(new Set(completedByFirst), new Set(ranOnFirst));

      second = new Worker(name, handler, options);
      await waitFor('every job to complete', async () => (await queue.getCounts()).completed === 500, 15_000);

      assert.equal(executions.size, 500);
      for (const id of ids) assert.equal(executions.get(id), 1, `job ${id} ran ${executions.get(id)} times`);
      assert.deepEqual(await queue.getCounts(), {
        waiting: 0,
        delayed: 0,
        active: 0,
        reserved: 0,
        completed: 500,
        failed: 0,
        waitingChildren: 0,
      });
      for (const id of ids.slice(0, 20)) {
        const info = (await queue.getJob(id))!;
        assert.equal(info.returnValue, id);
        assert.equal(info.stalls, 0);
      }
    } finally {
      await first?.close({ timeout: 1000 });
      await second?.close({ timeout: 1000 });
      await queue.close();
    }
  });

  test('close with a timeout shorter than a running job gives the job straight back and aborts its signal', async () => {
    const name = uniqueName('close-timeout');
    const queue = new Queue(name, { connection: redis.url, logger: quiet });
    const raw = new Redis(redis.url);
    let signal: AbortSignal | undefined;
    let lateFinish: (() => void) | undefined;
    let handlerEnded = false;
    let worker: Worker | undefined;
    let second: Worker | undefined;
    try {
      worker = new Worker(
        name,
        async (job: Job) => {
          signal = job.signal;
          // Ignores the abort on purpose: a handler that does not cooperate must not be acknowledged.
          await new Promise<void>((resolve) => {
            lateFinish = resolve;
          });
          handlerEnded = true;
          return 'too late';
        },
        { connection: redis.url, leaseMs: 30_000, logger: quiet },
      );
      const id = await queue.add('long', null, { removeOnComplete: false });
      await waitFor('the job to start', () => signal !== undefined);
      assert.equal(await stateOf(queue, id), 'active');

      const t0 = Date.now();
      await worker.close({ timeout: 300 });
      const closeMs = Date.now() - t0;
      const info = (await queue.getJob(id))!;
      assert.equal(info.state, 'waiting', 'released at once, not after the 30 s lease');
      assert.ok(closeMs >= 290 && closeMs < 2500, `close took ${closeMs} ms`);
      assert.equal(info.attemptsMade, 0, 'an interrupted attempt is not counted as failed');
      assert.equal(info.stalls, 0, 'a release is not a stall');
      assert.equal(signal!.aborted, true);
      assert.match(String((signal!.reason as Error).message), /worker closed/);
      assert.equal(
        await raw.zscore(queue.keys.workers, worker.id),
        null,
        'the closed worker left no lease behind',
      );
      assert.equal(handlerEnded, false);

      // The handler finishing after close must not acknowledge the job it no longer holds.
      lateFinish!();
      await sleep(100);
      assert.equal(handlerEnded, true);
      assert.equal(await stateOf(queue, id), 'waiting');

      const runs: string[] = [];
      second = new Worker(
        name,
        async (job: Job) => {
          runs.push(job.id);
          return 'second';
        },
        { connection: redis.url, leaseMs: 30_000, logger: quiet },
      );
      await waitFor('the released job to complete', async () => (await stateOf(queue, id)) === 'completed');
      assert.deepEqual(runs, [id]);
      assert.equal((await queue.getJob(id))!.returnValue, 'second');
    } finally {
      lateFinish?.();
      await worker?.close({ timeout: 1000 });
      await second?.close({ timeout: 1000 });
      await queue.close();
      raw.disconnect();
    }
  });

  test('a worker process given SIGTERM while a job hangs exits 0 and the job is waiting again', async () => {
    const name = uniqueName('sigterm');
    const log = join(tmp, `${name}.log`);
    const queue = new Queue(name, { connection: redis.url, logger: quiet });
    try {
      const child = await startWorkerProcess({
        REDIS_URL: redis.url,
        QUEUE: name,
        LOG: log,
        MODE: 'hang',
        LEASE_MS: '30000',
        CLOSE_TIMEOUT_MS: '200',
      });
      const id = await queue.add('hangs', null);
      await waitFor('the child to start the job', () => logLines(log).includes(id));
      child.proc.kill('SIGTERM');
      const { code, signal } = await child.exited;
      assert.equal(signal, null);
      assert.equal(code, 0, `stderr: ${child.stderr}`);
      assert.ok(child.lines.includes('closed'));
      const info = (await queue.getJob(id))!;
      assert.equal(info.state, 'waiting');
      assert.equal(info.stalls, 0);
    } finally {
      await queue.close();
    }
  });
});

describe('Redis failures', () => {
  test('Redis killed -9 and restarted with AOF mid-run: the same worker finishes every acknowledged job', async (t) => {
    const server = await startRedis({ aof: true });
    const name = uniqueName('redis-crash');
    const queue = new Queue(name, {
      connection: server.url,
      logger: quiet,
      defaultJobOptions: { removeOnComplete: false },
    });
    let worker: Worker | undefined;
    try {
      let executions = 0;
      let errors = 0;
      worker = new Worker(
        name,
        async () => {
          executions++;
          await sleep(5);
        },
        { connection: server.url, concurrency: 10, leaseMs: 600, logger: quiet },
      );
      worker.on('error', () => {
        errors++;
      });

      const acknowledged: string[] = [];
      let rejected = 0;
      let outage: Promise<void> | undefined;
      let restartedAt = 0;
      let executionsAtKill = -1;
      let heldAtKill = -1;
      // Eight producers, each awaiting its own adds one by one, so the queue builds a backlog.
      let next = 0;
      const producer = async () => {
        while (next < 2000) {
          const i = next++;
          if (i === 800) {
            executionsAtKill = executions;
            heldAtKill = (await queue.getCounts()).active;
            outage = (async () => {
              await server.kill9();
              await sleep(500);
              await server.restart();
              restartedAt = Date.now();
            })();
          }
          try {
            acknowledged.push(await queue.add('j', { i }));
          } catch {
            rejected++; // the outage: this job does not count
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, producer));
      await outage;
      assert.ok(restartedAt > 0);
      const executionsAtRestart = executions;
      // Midway for the worker too: it had run some jobs and not all of them.
      assert.ok(
        executionsAtKill > 0 && executionsAtKill < acknowledged.length,
        `ran ${executionsAtKill} before the kill`,
      );
      assert.ok(
        acknowledged.length >= 1000,
        `only ${acknowledged.length} adds acknowledged (${rejected} rejected)`,
      );

      const producedAt = Date.now();
      await waitFor(
        'the queue to be worked off',
        async () => {
          const c = await queue.getCounts();
          return c.waiting === 0 && c.active === 0 && c.delayed === 0 && c.completed >= acknowledged.length;
        },
        20_000,
      ).catch(async (err: Error) => {
        throw new Error(`${err.message}; counts: ${JSON.stringify(await queue.getCounts())}`);
      });
      const workedOffMs = Date.now() - producedAt;
      const states = new Map<string, number>();
      for (const id of acknowledged) {
        const s = (await stateOf(queue, id)) ?? 'missing';
        states.set(s, (states.get(s) ?? 0) + 1);
      }
      assert.deepEqual([...states], [['completed', acknowledged.length]], 'every acknowledged job completed');

      const counts = await queue.getCounts();
      assert.equal(counts.waiting, 0);
      assert.equal(counts.active, 0, 'no job is left held after the restart');
      assert.equal(counts.failed, 0);
      // Jobs whose add was applied but whose reply was lost may exist on top of the acknowledged ones.
      assert.ok(counts.completed >= acknowledged.length);
      assert.ok(executions >= acknowledged.length);
      assert.ok(executions > executionsAtRestart, 'the same worker ran jobs after the restart');
      t.diagnostic(
        `acknowledged ${acknowledged.length}, rejected ${rejected}, completed ${counts.completed}, ` +
          `executions ${executions} (${executionsAtKill} before the kill, ${heldAtKill} active at the kill), ` +
          `worker errors ${errors}; worked off ${workedOffMs} ms after the last add, ` +
          `restart ${producedAt - restartedAt} ms before it`,
      );
    } finally {
      await worker?.close({ timeout: 2000 });
      await queue.close();
      await server.stop();
    }
  });

  test('a fetch that ran but whose reply was lost (connection dropped) does not strand its job in active', async () => {
    const name = uniqueName('lost-reply');
    const queue = new Queue(name, { connection: redis.url, logger: quiet });
    const raw = new Redis(redis.url);
    const admin = new Redis(redis.url);
    let serverPid = 0;
    let paused = false;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const ran: string[] = [];
    const lost: string[] = [];
    let worker: Worker | undefined;
    try {
      // Capacity 1: while the first job runs, the worker waits for a slot and sends nothing but heartbeats.
      worker = new Worker(
        name,
        async (job: Job) => {
          ran.push(job.id);
          if (ran.length === 1) await gate;
        },
        { connection: redis.url, concurrency: 1, prefetch: 0, leaseMs: 600, logger: quiet },
      );
      worker.on('lost', (job: Job) => lost.push(job.id));
      const first = await queue.add('first', null, { removeOnComplete: false });
      await waitFor('the first job to start', () => ran.length === 1);
      const second = await queue.add('second', null, { removeOnComplete: false });
      assert.equal(await stateOf(queue, second), 'waiting');

      const commandClients = ((await raw.client('LIST')) as string)
        .split('\n')
        .filter((l) => l.includes(' name=hopper:command '));
      assert.equal(commandClients.length, 1, "only this test's worker is connected");
      const workerClientId = /\bid=(\d+)/.exec(commandClients[0]!)![1]!;
      serverPid = Number(/process_id:(\d+)/.exec(await raw.info('server'))![1]);

      // Freeze Redis, let the worker finish the first job: it sends settle (first) and fetch (second).
      process.kill(serverPid, 'SIGSTOP');
      paused = true;
      open();
      await sleep(100);
      // Queued behind them: drop the worker's connection right after Redis runs its commands, before it reads the replies.
      const killed = admin.client('KILL', 'ID', workerClientId);
      await sleep(50);
      process.kill(serverPid, 'SIGCONT');
      paused = false;
      assert.equal(await killed, 1);

      await waitFor('the first job to complete', async () => (await stateOf(queue, first)) === 'completed');
      // One worker, alive and renewing its lease: the second job must reach it within a few leases.
      await waitFor('the second job to run', () => ran.includes(second), 4000).catch(async (err: Error) => {
        throw new Error(
          `${err.message}; second job is ${await stateOf(queue, second)}, active: ${JSON.stringify(await raw.hgetall(queue.keys.active))}`,
        );
      });
      await waitFor('the second job to complete', async () => (await stateOf(queue, second)) === 'completed');
      assert.deepEqual(lost, [], "the first job's completion was applied: it must not be reported lost");
    } finally {
      if (paused) process.kill(serverPid, 'SIGCONT');
      open?.();
      await worker?.close({ timeout: 1000 });
      await queue.close();
      raw.disconnect();
      admin.disconnect();
    }
  });

  test('after SCRIPT FLUSH adding and processing still work (NOSCRIPT is handled)', async () => {
    const name = uniqueName('noscript');
    const queue = new Queue(name, { connection: redis.url, logger: quiet });
    const raw = new Redis(redis.url);
    let worker: Worker | undefined;
    try {
      const done: string[] = [];
      worker = new Worker(
        name,
        async (job: Job) => {
          done.push(job.id);
          return (job.data as { n: number }).n * 2;
        },
        { connection: redis.url, leaseMs: 600, logger: quiet },
      );
      const errors: string[] = [];
      worker.on('error', (err: Error) => errors.push(err.message));
      const first = await queue.add('before', { n: 1 }, { removeOnComplete: false });
      await waitFor('the first job to complete', async () => (await stateOf(queue, first)) === 'completed');

      const shaOf = (script: string) => createHash('sha1').update(queueScripts.get(script)!).digest('hex');
      const shas = ['add', 'fetch', 'settle', 'heartbeat', 'get-job'].map(shaOf);
      assert.deepEqual(await raw.script('EXISTS', ...shas), [1, 1, 1, 1, 1], 'the scripts were cached');
      assert.equal(await raw.script('FLUSH'), 'OK');
      assert.deepEqual(await raw.script('EXISTS', ...shas), [0, 0, 0, 0, 0], 'the flush emptied the cache');

      const second = await queue.add('after', { n: 21 }, { removeOnComplete: false });
      await waitFor('the second job to complete', async () => (await stateOf(queue, second)) === 'completed');
      assert.equal((await queue.getJob(second))!.returnValue, 42);
      assert.deepEqual(done, [first, second]);
      const bulk = await queue.addBulk(
        [1, 2, 3].map((n) => ({ name: 'bulk', data: { n }, opts: { removeOnComplete: false } })),
      );
      await waitFor('the bulk jobs to complete', async () => (await queue.getCounts()).completed === 5);
      assert.deepEqual(done.slice(2).sort(), [...bulk].sort());
      // The heartbeat runs on its own timer (every leaseMs / 3): it must come back too, without an error.
      await waitFor('every script to be loaded again', async () => {
        const exists = (await raw.script('EXISTS', ...shas)) as number[];
        return exists.every((e) => e === 1);
      });
      assert.deepEqual(errors, [], 'NOSCRIPT never surfaced as a worker error');
    } finally {
      await worker?.close({ timeout: 1000 });
      await queue.close();
      raw.disconnect();
    }
  });
});
